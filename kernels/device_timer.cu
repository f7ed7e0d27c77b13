// CUDA events for engine/device_timer.h, recorded on the engine's stream.
#include "engine/device_timer.h"
#include "kernels/cuda_common.cuh"

namespace cuda {

struct EventPair {
  cudaEvent_t start = nullptr, stop = nullptr;
};

EventPair* event_pair_create() {
  auto* e = new EventPair;
  CUDA_CHECK(cudaEventCreate(&e->start));
  CUDA_CHECK(cudaEventCreate(&e->stop));
  return e;
}

void event_pair_destroy(EventPair* e) {  // a deleter: never throws
  cudaEventDestroy(e->start);
  cudaEventDestroy(e->stop);
  delete e;
}

void event_record_start(EventPair* e) { CUDA_CHECK(cudaEventRecord(e->start, stream())); }
void event_record_stop(EventPair* e) { CUDA_CHECK(cudaEventRecord(e->stop, stream())); }

float event_elapsed_ms(EventPair* e) {
  CUDA_CHECK(cudaEventSynchronize(e->stop));
  float ms = 0.0f;
  CUDA_CHECK(cudaEventElapsedTime(&ms, e->start, e->stop));
  return ms;
}

}  // namespace cuda
