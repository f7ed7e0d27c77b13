// Inverted dropout on the GPU. The forward first turns the uniforms into multipliers (one thread per
// mask entry), then applies them (one thread per element); two launches, because with group > 1 the
// elements sharing a mask entry would otherwise race with the thread rewriting it.
#include "engine/ops/dropout.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void make_mask_kernel(float* mask, int64_t m, float p, float keep_scale) {
  GRID_STRIDE(j, m) mask[j] = mask[j] >= p ? keep_scale : 0.0f;
}

__global__ void apply_mask_kernel(const float* x, const float* mask, int64_t n, int group, float* y) {
  GRID_STRIDE(i, n) y[i] = x[i] * mask[i / group];
}

}  // namespace

namespace cuda {

void dropout_fwd(const float* x, float* mask, int64_t n, int group, float p, float* y) {
  if (n <= 0) return;
  const int64_t m = n / group;
  make_mask_kernel<<<grid_for(m, kBlock), kBlock, 0, cuda::stream()>>>(mask, m, p, 1.0f / (1.0f - p));
  CUDA_LAUNCH_CHECK();
  apply_mask_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(x, mask, n, group, y);
  CUDA_LAUNCH_CHECK();
}

void dropout_bwd(const float* dy, const float* mask, int64_t n, int group, float* dx) {
  if (n <= 0) return;
  apply_mask_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(dy, mask, n, group, dx);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
