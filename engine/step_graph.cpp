#include "engine/step_graph.h"

#include <cstdlib>
#include <cstring>

bool StepGraph::enabled() {
#ifdef AMNESIA_CUDA
  const char* v = std::getenv("AMNESIA_CUDA_GRAPH");
  return v && std::strcmp(v, "1") == 0;
#else
  return false;
#endif
}

void StepGraph::run(Backend& be, double key, const std::function<void()>& step) {
#ifdef AMNESIA_CUDA
  if (be.is_cuda() && enabled()) {
    if (!state_) state_ = std::shared_ptr<cuda::GraphState>(cuda::graph_state_create(), cuda::graph_state_destroy);
    return cuda::graph_run(state_.get(), be, key, step);
  }
#else
  (void)be, (void)key;
#endif
  step();
}
