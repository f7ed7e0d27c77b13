// Column concatenation (label conditioning), its backward slice, one-hot labels and batch gather.
// All four are pure copies: one grid-stride loop over the output, one thread per output element,
// consecutive threads write consecutive addresses.
#include "engine/ops/concat.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void concat_cols_kernel(const float* a, int ca, const float* b, int cb, int64_t n, float* out) {
  const int c_out = ca + cb;
  GRID_STRIDE(i, n) {
    const int64_t r = i / c_out;
    const int c = static_cast<int>(i - r * c_out);
    out[i] = c < ca ? a[r * ca + c] : b[r * cb + (c - ca)];
  }
}

__global__ void slice_cols_kernel(const float* src, int csrc, int offset, int ncols, int64_t n, float* dst) {
  GRID_STRIDE(i, n) {
    const int64_t r = i / ncols;
    const int c = static_cast<int>(i - r * ncols);
    dst[i] = src[r * csrc + offset + c];
  }
}

// Writes every element (zeros included), so the output needs no prior clear. A label outside
// [0, nclass) yields an all-zero row, as on the CPU (engine/ops/concat.h).
__global__ void onehot_kernel(const int* labels, int nclass, int64_t n, float* out) {
  GRID_STRIDE(i, n) {
    const int64_t r = i / nclass;
    const int c = static_cast<int>(i - r * nclass);
    out[i] = labels[r] == c ? 1.0f : 0.0f;
  }
}

__global__ void gather_rows_kernel(const float* src, int cols, const int* idx, int64_t n, float* dst) {
  GRID_STRIDE(i, n) {
    const int64_t r = i / cols;
    const int c = static_cast<int>(i - r * cols);
    dst[i] = src[static_cast<int64_t>(idx[r]) * cols + c];
  }
}

}  // namespace

namespace cuda {

void concat_cols(const float* a, int ca, const float* b, int cb, int rows, float* out) {
  const int64_t n = static_cast<int64_t>(rows) * (ca + cb);
  if (n <= 0) return;
  concat_cols_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(a, ca, b, cb, n, out);
  CUDA_LAUNCH_CHECK();
}

void slice_cols(const float* src, int csrc, int offset, int ncols, int rows, float* dst) {
  const int64_t n = static_cast<int64_t>(rows) * ncols;
  if (n <= 0) return;
  slice_cols_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(src, csrc, offset, ncols, n, dst);
  CUDA_LAUNCH_CHECK();
}

void onehot(const int* labels, int rows, int nclass, float* out) {
  const int64_t n = static_cast<int64_t>(rows) * nclass;
  if (n <= 0) return;
  onehot_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(labels, nclass, n, out);
  CUDA_LAUNCH_CHECK();
}

void gather_rows(const float* src, int cols, const int* idx, int rows, float* dst) {
  const int64_t n = static_cast<int64_t>(rows) * cols;
  if (n <= 0) return;
  gather_rows_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(src, cols, idx, n, dst);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
