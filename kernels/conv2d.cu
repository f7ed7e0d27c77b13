// Convolution primitives on the GPU (the GEMMs themselves are cuBLAS, via the gemm dispatcher).
// im2col: one thread per column-matrix element, so consecutive threads write consecutive addresses.
// col2im: one thread per input pixel that GATHERS the column entries which read it. The scatter form
// (one thread per column entry, atomicAdd into dx) would be simpler but its float sums would land in
// a different order on every run; the gather form is deterministic and needs no atomics.
// The permutes are plain grid-stride copies indexed by the destination; the bias-gradient row sum is
// one block per row, reduced in the block (deterministic, no atomics).
#include "engine/ops/conv2d.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void im2col_kernel(const float* x, ConvGeom g, int oh, int ow, int64_t cols, int64_t total, float* col) {
  const int kk = g.k * g.k;
  const int64_t ohw = static_cast<int64_t>(oh) * ow;
  GRID_STRIDE(i, total) {
    const int64_t r = i / cols, j = i - r * cols;
    const int c = static_cast<int>(r / kk), rem = static_cast<int>(r % kk);
    const int ki = rem / g.k, kj = rem % g.k;
    const int64_t n = j / ohw;
    const int p = static_cast<int>(j - n * ohw);
    const int iy = (p / ow) * g.stride - g.pad + ki, ix = (p % ow) * g.stride - g.pad + kj;
    float v = 0.0f;
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w) v = x[((n * g.c_in + c) * g.h + iy) * g.w + ix];
    col[i] = v;
  }
}

__global__ void col2im_kernel(const float* col, ConvGeom g, int oh, int ow, int64_t cols, int64_t total, float* dx) {
  const int64_t ohw = static_cast<int64_t>(oh) * ow;
  GRID_STRIDE(i, total) {
    const int x = static_cast<int>(i % g.w);
    const int y = static_cast<int>((i / g.w) % g.h);
    const int64_t nc = i / (static_cast<int64_t>(g.w) * g.h);
    const int c = static_cast<int>(nc % g.c_in);
    const int64_t n = nc / g.c_in;
    float sum = 0.0f;
    // Output position (oy, ox) read this pixel through tap (ki, kj) when oy*s - pad + ki == y.
    for (int ki = 0; ki < g.k; ++ki) {
      const int ty = y + g.pad - ki;
      if (ty < 0 || ty % g.stride) continue;
      const int oy = ty / g.stride;
      if (oy >= oh) continue;
      for (int kj = 0; kj < g.k; ++kj) {
        const int tx = x + g.pad - kj;
        if (tx < 0 || tx % g.stride) continue;
        const int ox = tx / g.stride;
        if (ox >= ow) continue;
        const int64_t r = (static_cast<int64_t>(c) * g.k + ki) * g.k + kj;
        sum += col[r * cols + n * ohw + static_cast<int64_t>(oy) * ow + ox];
      }
    }
    dx[i] = sum;
  }
}

__global__ void cnhw_to_nchw_kernel(const float* src, const float* bias, int n, int c, int hw, int64_t total,
                                    float* dst) {
  GRID_STRIDE(i, total) {
    const int p = static_cast<int>(i % hw);
    const int64_t nc = i / hw;
    const int ch = static_cast<int>(nc % c);
    const int64_t img = nc / c;
    dst[i] = src[(static_cast<int64_t>(ch) * n + img) * hw + p] + (bias ? bias[ch] : 0.0f);
  }
}

__global__ void nchw_to_cnhw_kernel(const float* src, int n, int c, int hw, int64_t total, float* dst) {
  GRID_STRIDE(i, total) {
    const int p = static_cast<int>(i % hw);
    const int64_t cn = i / hw;
    const int64_t img = cn % n;
    const int ch = static_cast<int>(cn / n);
    dst[i] = src[(img * c + ch) * hw + p];
  }
}

__global__ void row_sums_add_kernel(const float* src, int64_t cols, float* dst) {
  const float* row = src + blockIdx.x * cols;
  float s = 0.0f;
  for (int64_t j = threadIdx.x; j < cols; j += blockDim.x) s += row[j];
  s = block_sum(s);
  if (threadIdx.x == 0) dst[blockIdx.x] += s;
}

}  // namespace

namespace cuda {

void im2col(const float* x, ConvGeom g, float* col) {
  const int64_t cols = g.col_cols(), total = g.col_rows() * cols;
  if (total <= 0) return;
  im2col_kernel<<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(x, g, g.oh(), g.ow(), cols, total, col);
  CUDA_LAUNCH_CHECK();
}

void col2im(const float* col, ConvGeom g, float* dx) {
  const int64_t total = static_cast<int64_t>(g.n) * g.c_in * g.h * g.w;
  if (total <= 0) return;
  col2im_kernel<<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(col, g, g.oh(), g.ow(), g.col_cols(), total, dx);
  CUDA_LAUNCH_CHECK();
}

void cnhw_to_nchw(const float* src, const float* bias, int n, int c, int hw, float* dst) {
  const int64_t total = static_cast<int64_t>(n) * c * hw;
  if (total <= 0) return;
  cnhw_to_nchw_kernel<<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(src, bias, n, c, hw, total, dst);
  CUDA_LAUNCH_CHECK();
}

void nchw_to_cnhw(const float* src, int n, int c, int hw, float* dst) {
  const int64_t total = static_cast<int64_t>(n) * c * hw;
  if (total <= 0) return;
  nchw_to_cnhw_kernel<<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(src, n, c, hw, total, dst);
  CUDA_LAUNCH_CHECK();
}

void row_sums_add(const float* src, int rows, int64_t cols, float* dst) {
  if (rows <= 0 || cols <= 0) return;
  row_sums_add_kernel<<<rows, kBlock, 0, cuda::stream()>>>(src, cols, dst);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
