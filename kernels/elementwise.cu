// Flat-buffer helpers: fill, y += a*x, y = a*x. Grid-stride loops with 64-bit indices, so any n works.
#include "engine/ops/elementwise.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void fill_kernel(float* x, int64_t n, float value) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] = value;
}

__global__ void axpy_kernel(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] += a * x[i];
}

// x and y may alias (used in place by gemm's k == 0 path): each element is read then written by one thread.
__global__ void scale_copy_kernel(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = a * x[i];
}

constexpr int kBlock = 256;

}  // namespace

namespace cuda {

void fill(float* x, int64_t n, float value) {
  if (n <= 0) return;
  fill_kernel<<<grid_for(n, kBlock), kBlock>>>(x, n, value);
  CUDA_LAUNCH_CHECK();
}

void axpy(int64_t n, float a, const float* x, float* y) {
  if (n <= 0) return;
  axpy_kernel<<<grid_for(n, kBlock), kBlock>>>(n, a, x, y);
  CUDA_LAUNCH_CHECK();
}

void scale_copy(int64_t n, float a, const float* x, float* y) {
  if (n <= 0) return;
  scale_copy_kernel<<<grid_for(n, kBlock), kBlock>>>(n, a, x, y);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
