// One training step replayed as a CUDA Graph: the step's dozens of kernel launches, memsets and cuBLAS
// calls become one graph launch, and the host queues steps without waiting for the device. On the CPU,
// or when the graph is off, run() simply calls the step.
//
// What the step may do: queue device work on be only (no host read-back, no allocation after the first
// call, no host-to-device copy: upload a step's inputs before run(), e.g. with StagedUpload), with every
// pointer the same from call to call. That includes the scratch of the models the step runs: a model
// used between steps on MORE rows than the step gives it reallocates its activations, and the graph
// would then point at freed memory. Random draws and Adam steps are replay-safe (their per-step
// counter and step number are read from the device, see kernels/cuda_common.cuh: ReplayInputs); any
// other scalar that changes between steps (a learning rate) must be passed as `key`: the step is captured
// again whenever the key changes.
//
// Off by default until it has run on a GPU: AMNESIA_CUDA_GRAPH=1 turns it on.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>

#include "engine/backend.h"

namespace cuda {
struct GraphState;
GraphState* graph_state_create();
void graph_state_destroy(GraphState* s);
void graph_run(GraphState* s, Backend& be, double key, const std::function<void()>& step);
}

class StepGraph {
 public:
  // The first call runs the step eagerly (it allocates its scratch); the second captures and replays it;
  // later calls replay it (after capturing it again if key changed).
  void run(Backend& be, double key, const std::function<void()>& step);
  static bool enabled();  // AMNESIA_CUDA_GRAPH=1 and a CUDA build

 private:
  std::shared_ptr<cuda::GraphState> state_;
};
