// Counter-based random numbers on cuRAND's Philox4x32-10 (device API), drawing exactly the same
// stream as the CPU twin (engine/cpu/rng.cpp): element i of a call is a function of
// (seed, offset + i) only, namely of the block W = Philox4x32-10(counter = offset + i, key = seed):
//   uniform: (W.x >> 8) * 2^-24                                 in [0, 1), exact in float
//   normal : sqrt(-2 ln u1) cos(2 pi u2), u1 = (W.x + 1) 2^-32 in (0, 1], u2 = W.y 2^-32   (in double)
// So a run replays from its seed on either device, and CPU and CUDA runs draw the same numbers
// (uniform bit-identical; normal up to the last float bit of libm vs CUDA's double log/cos).
//
// cuRAND's state counts 32-bit outputs, four per Philox counter value: curand_init(seed, 0, 4 k)
// positions the state at the first word of block k, and two curand() calls return W.x and W.y
// without generating another block.
#include <curand_kernel.h>

#include "engine/ops/rng.h"
#include "kernels/cuda_common.cuh"

namespace {

__device__ inline void philox_at(uint64_t seed, uint64_t counter, unsigned int* x, unsigned int* y) {
  curandStatePhilox4_32_10_t state;
  curand_init(seed, 0ull, 4ull * counter, &state);
  *x = curand(&state);
  if (y) *y = curand(&state);
}

// base: null, or (inside a captured step) the device word the offset is relative to.
__global__ void uniform_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset, const uint64_t* base) {
  if (base) offset += *base;
  GRID_STRIDE(i, n) {
    unsigned int x;
    philox_at(seed, offset + static_cast<uint64_t>(i), &x, nullptr);
    out[i] = static_cast<float>(x >> 8) * 0x1.0p-24f;  // top 24 bits: every value exact, 1.0 unreachable
  }
}

// Box-Muller in double as the CPU twin does (these buffers are small: eps per batch, noise images).
__global__ void normal_kernel(float* out, int64_t n, uint64_t seed, uint64_t offset, const uint64_t* base) {
  if (base) offset += *base;
  constexpr double kTwoPi = 6.283185307179586476925286766559;
  GRID_STRIDE(i, n) {
    unsigned int x, y;
    philox_at(seed, offset + static_cast<uint64_t>(i), &x, &y);
    const double u1 = (static_cast<double>(x) + 1.0) * 0x1.0p-32;  // (0, 1]: log is finite
    const double u2 = static_cast<double>(y) * 0x1.0p-32;
    out[i] = static_cast<float>(sqrt(-2.0 * log(u1)) * cos(kTwoPi * u2));
  }
}

// The counter offset as launched: absolute, or relative to the replay's base while a step is captured.
struct LaunchOffset {
  uint64_t offset;
  const uint64_t* base;
};
LaunchOffset launch_offset(uint64_t offset) {
  const cuda::ReplayInputs* r = cuda::replay_inputs();
  if (!r) return {offset, nullptr};
  return {offset - r->rng_base_at_capture, r->rng_base};
}

}  // namespace

namespace cuda {

void uniform(float* x, int64_t n, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  const LaunchOffset at = launch_offset(offset);
  uniform_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(x, n, seed, at.offset, at.base);
  CUDA_LAUNCH_CHECK();
}

void normal(float* x, int64_t n, uint64_t seed, uint64_t offset) {
  if (n <= 0) return;
  const LaunchOffset at = launch_offset(offset);
  normal_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(x, n, seed, at.offset, at.base);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
