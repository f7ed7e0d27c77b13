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

// What the machine offers this build's CUDA backend. Absent: no driver installed, no device, or a build
// without CUDA. NoKernels: a device whose architecture this build has no kernel image (nor PTX) for.
// Broken: the runtime failed for another reason (an old driver, say); `why` says which.
struct CudaProbe {
  enum State { Absent, Usable, NoKernels, Broken } state = Absent;
  std::string why;
};
CudaProbe probe_cuda();
// "auto" | "cpu" | "cuda" -> a Backend; throws std::runtime_error for an unknown or unusable device.
// auto: CUDA when usable; the CPU when there is none, or (with a one-line note on stderr) when the
// device cannot run this build's kernels; a broken CUDA installation throws, it is never hidden.
Backend make_backend(const std::string& choice, uint64_t seed);
// Blocks until queued device work is done (a no-op on CPU); used before timing and host reads.
void backend_sync(const Backend& be);

// Dispatch to the CPU reference (namespace cpu) or the CUDA twin (namespace cuda) by the backend.
// Both twins take identical arguments; only the device of the pointers differs.
#ifdef AMNESIA_CUDA
#define AMNESIA_DISPATCH(be, fn, ...) ((be).is_cuda() ? cuda::fn(__VA_ARGS__) : cpu::fn(__VA_ARGS__))
#else
#define AMNESIA_DISPATCH(be, fn, ...) ((void)(be), cpu::fn(__VA_ARGS__))
#endif

// A device op: its CPU reference and CUDA twin, called as op(be, args...) with the twin's own typed
// parameters (so arguments convert exactly as in a direct call).
template <class Signature>
struct TwinOp;
template <class... P>
struct TwinOp<void(P...)> {
  void (*on_cpu)(P...);
#ifdef AMNESIA_CUDA
  void (*on_cuda)(P...);
  void operator()(const Backend& be, P... args) const { (be.is_cuda() ? on_cuda : on_cpu)(args...); }
#else
  void operator()(const Backend&, P... args) const { on_cpu(args...); }
#endif
};

// Each op's signature is written once, in its engine/ops header:
//   AMNESIA_OP(name, params...)           declares cpu::name and cuda::name and the dispatcher name(be, ...)
//   AMNESIA_OP_AS(api, twin, params...)   the same with a dispatcher named unlike the twins
//   AMNESIA_TWINS(name, params...)        the twins alone, for ops whose dispatcher does more (rng)
#define AMNESIA_TWINS(name, ...)  \
  namespace cpu {                 \
  void name(__VA_ARGS__);         \
  }                               \
  namespace cuda {                \
  void name(__VA_ARGS__);         \
  }
#ifdef AMNESIA_CUDA
#define AMNESIA_OP_AS(api, twin, ...) \
  AMNESIA_TWINS(twin, __VA_ARGS__)    \
  inline constexpr TwinOp<void(__VA_ARGS__)> api{&cpu::twin, &cuda::twin};
#else
#define AMNESIA_OP_AS(api, twin, ...) \
  AMNESIA_TWINS(twin, __VA_ARGS__)    \
  inline constexpr TwinOp<void(__VA_ARGS__)> api{&cpu::twin};
#endif
#define AMNESIA_OP(name, ...) AMNESIA_OP_AS(name, name, __VA_ARGS__)
