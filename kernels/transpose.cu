// Batched transpose, one thread per element indexed by its DESTINATION position, so the writes are
// coalesced; the matrices here are tiny (8 x 196 per image), which makes shared-memory tiling not worth it.
#include "engine/ops/transpose.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void transpose_kernel(const float* src, int64_t total, int rows, int cols, float* dst) {
  const int64_t plane = static_cast<int64_t>(rows) * cols;
  GRID_STRIDE(o, total) {
    const int64_t b = o / plane, r = o % plane;
    const int64_t j = r / rows, i = r % rows;  // dst[b, j, i]
    dst[o] = src[b * plane + i * cols + j];
  }
}

}  // namespace

namespace cuda {

void batched_transpose(const float* src, int batch, int rows, int cols, float* dst) {
  const int64_t total = static_cast<int64_t>(batch) * rows * cols;
  if (total <= 0) return;
  transpose_kernel<<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(src, total, rows, cols, dst);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
