// The Backend: which device the ops run on, plus the counter that feeds the
// stateless (counter-based) random number generator on both devices.
#pragma once
#include <cstdint>
#include <string>

enum class Device { CPU, CUDA };

struct Backend {
  Device device = Device::CPU;
  uint64_t seed = 0;
  uint64_t rng_counter = 0;  // advanced by every random op, so a run replays exactly from its seed

  bool is_cuda() const { return device == Device::CUDA; }
  uint64_t next_rng_offset(uint64_t n) { uint64_t o = rng_counter; rng_counter += n; return o; }
  const char* name() const { return is_cuda() ? "cuda" : "cpu"; }
};

// True when the CUDA backend was compiled in and a device answers.
bool cuda_device_available();
// "auto" | "cpu" | "cuda" -> a Backend; throws std::runtime_error for an unknown or unusable device.
Backend make_backend(const std::string& choice, uint64_t seed);
// Blocks until queued device work is done (a no-op on CPU); used before timing and host reads.
void backend_sync(const Backend& be);

// Dispatch an op to its CPU reference (namespace cpu) or its CUDA twin (namespace cuda).
// Both twins take identical arguments; only the device of the pointers differs.
#ifdef AMNESIA_CUDA
#define AMNESIA_DISPATCH(be, fn, ...) ((be).is_cuda() ? cuda::fn(__VA_ARGS__) : cpu::fn(__VA_ARGS__))
#else
#define AMNESIA_DISPATCH(be, fn, ...) ((void)(be), cpu::fn(__VA_ARGS__))
#endif
