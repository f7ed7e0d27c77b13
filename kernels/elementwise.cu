// Flat-buffer helpers: fill, y += a*x, y = a*x, as grid-stride loops (any n works).
#include "engine/ops/elementwise.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void fill_kernel(float* x, int64_t n, float value) {
  GRID_STRIDE(i, n) x[i] = value;
}

__global__ void axpy_kernel(int64_t n, float a, const float* x, float* y) {
  GRID_STRIDE(i, n) y[i] += a * x[i];
}

// x and y may alias (used in place by gemm's k == 0 path): each element is read then written by one thread.
__global__ void scale_copy_kernel(int64_t n, float a, const float* x, float* y) {
  GRID_STRIDE(i, n) y[i] = a * x[i];
}

}  // namespace

namespace cuda {

void fill(float* x, int64_t n, float value) {
  if (n <= 0) return;
  fill_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(x, n, value);
  CUDA_LAUNCH_CHECK();
}

void axpy(int64_t n, float a, const float* x, float* y) {
  if (n <= 0) return;
  axpy_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(n, a, x, y);
  CUDA_LAUNCH_CHECK();
}

void scale_copy(int64_t n, float a, const float* x, float* y) {
  if (n <= 0) return;
  scale_copy_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(n, a, x, y);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
