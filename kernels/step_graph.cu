// CUDA Graph capture and replay of one training step (engine/step_graph.h), and the device words that
// keep a replay's random draws and Adam steps moving (kernels/cuda_common.cuh: ReplayInputs).
#include <functional>
#include <stdexcept>
#include <vector>

#include "engine/buffer.h"
#include "engine/step_graph.h"
#include "kernels/cuda_common.cuh"

namespace cuda {

namespace {
constexpr int kMaxCounters = 16;  // Adam instances per step (the MAE has two)
ReplayInputs* g_capturing = nullptr;
}  // namespace

ReplayInputs* replay_inputs() { return g_capturing; }

struct GraphState final : ReplayInputs {
  cudaGraphExec_t exec = nullptr;
  bool captured = false;
  int eager_calls = 0;
  double key = 0.0;
  uint64_t draws = 0;
  uint64_t* rng_base_dev = nullptr;
  int* counters_dev = nullptr;
  std::vector<int> counters_start;  // host: what each counter holds before the first replay
  Staging* staging = staging_create();

  GraphState() {
    CUDA_CHECK(cudaMalloc(&rng_base_dev, sizeof(uint64_t)));
    CUDA_CHECK(cudaMalloc(&counters_dev, kMaxCounters * sizeof(int)));
    rng_base = rng_base_dev;
  }
  ~GraphState() {  // a destructor: never throws
    if (exec) cudaGraphExecDestroy(exec);
    staging_destroy(staging);
    cudaFree(rng_base_dev);
    cudaFree(counters_dev);
  }

  int* step_counter(int step) override {
    if (counters_start.size() == kMaxCounters) throw std::runtime_error("StepGraph: too many Adam steps in one step");
    counters_start.push_back(step - 1);
    return counters_dev + counters_start.size() - 1;
  }

  void capture(Backend& be, const std::function<void()>& step) {
    rng_base_at_capture = be.rng_counter;
    counters_start.clear();
    cudaGraph_t graph = nullptr;
    CUDA_CHECK(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal));
    g_capturing = this;
    try {
      step();
    } catch (...) {
      g_capturing = nullptr;
      if (cudaStreamEndCapture(stream(), &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
      throw;
    }
    g_capturing = nullptr;
    CUDA_CHECK(cudaStreamEndCapture(stream(), &graph));
    if (exec) CUDA_CHECK(cudaGraphExecDestroy(exec));
    exec = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);
    CUDA_CHECK(err);
    // Nothing ran yet: the first replay performs the captured draws, at the offsets taken during capture.
    draws = be.rng_counter - rng_base_at_capture;
    be.rng_counter = rng_base_at_capture;
    // A capture again (a new key) keeps the device counters: the host's Adam step counts only captures.
    if (!captured && !counters_start.empty())
      copy_to_device(counters_dev, counters_start.data(), counters_start.size() * sizeof(int));
    captured = true;
  }

  void replay(Backend& be) {
    upload_staged(staging, rng_base_dev, &be.rng_counter, sizeof(uint64_t));
    CUDA_CHECK(cudaGraphLaunch(exec, stream()));
    be.rng_counter += draws;
  }
};

GraphState* graph_state_create() { return new GraphState; }
void graph_state_destroy(GraphState* s) { delete s; }

void graph_run(GraphState* s, Backend& be, double key, const std::function<void()>& step) {
  if (s->eager_calls == 0) {  // allocations happen here, outside any capture
    ++s->eager_calls;
    return step();
  }
  if (!s->captured || key != s->key) {
    s->key = key;
    s->capture(be, step);
  }
  s->replay(be);
}

}  // namespace cuda
