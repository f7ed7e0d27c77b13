// Times work queued on a backend, for benchmarks: CUDA events on the engine's stream (the device's own
// clock, no host round trip between start and stop), wall clock on the CPU.
#pragma once
#include <chrono>
#include <memory>

#include "engine/backend.h"

namespace cuda {
struct EventPair;
EventPair* event_pair_create();
void event_pair_destroy(EventPair* e);
void event_record_start(EventPair* e);
void event_record_stop(EventPair* e);
float event_elapsed_ms(EventPair* e);  // waits for the stop event
}

class DeviceTimer {
 public:
  explicit DeviceTimer(const Backend& be) : cuda_(be.is_cuda()) {
#ifdef AMNESIA_CUDA
    if (cuda_) events_ = std::shared_ptr<cuda::EventPair>(cuda::event_pair_create(), cuda::event_pair_destroy);
#endif
  }
  void start() {
#ifdef AMNESIA_CUDA
    if (cuda_) return cuda::event_record_start(events_.get());
#endif
    t0_ = std::chrono::steady_clock::now();
  }
  // Milliseconds from start() to now (CUDA: to the completion of the work queued before this call).
  double stop_ms() {
#ifdef AMNESIA_CUDA
    if (cuda_) {
      cuda::event_record_stop(events_.get());
      return cuda::event_elapsed_ms(events_.get());
    }
#endif
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  bool cuda_;
  std::shared_ptr<cuda::EventPair> events_;
  std::chrono::steady_clock::time_point t0_;
};
