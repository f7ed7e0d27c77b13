// Diagonal Fisher of a Linear layer, batched: fisher_w[o,i] += scale * sum_n delta[n,o]^2 a[n,i]^2,
// fisher_b[o] += scale * sum_n delta[n,o]^2. That is the GEMM (delta o delta)^T (a o a) with the
// reduction over the batch rows; here it is one tiled kernel that squares on load, so no squared
// copies are ever materialised and nothing is allocated.
//
// Block (32, 8) owns a 32 x 32 tile of fisher_w (32 outputs o by 32 inputs i). Per stage it stages 32
// batch rows of delta^2 and a^2 in shared memory (coalesced row loads), then thread (tx, ty)
// accumulates the four outputs o = ty, ty+8, ty+16, ty+24 at input i = tx. The blocks of the first
// input tile also sum delta^2 for the bias, so the bias costs no extra pass or launch.
#include "engine/ops/fisher.h"
#include "kernels/cuda_common.cuh"

namespace {

constexpr int kTile = 32;              // outputs x inputs per block, and batch rows per stage
constexpr int kRowsY = 8;              // blockDim.y
constexpr int kPer = kTile / kRowsY;   // outputs per thread

__global__ void fisher_kernel(const float* delta, const float* a, int rows, int out, int in, float scale,
                              float* fisher_w, float* fisher_b) {
  __shared__ float sd[kTile][kTile + 1];  // [batch row][output]  delta^2
  __shared__ float sa[kTile][kTile];      // [batch row][input]   a^2
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int o0 = blockIdx.y * kTile, i0 = blockIdx.x * kTile;
  const bool bias_block = fisher_b && blockIdx.x == 0 && tx == 0;
  float acc[kPer] = {};
  float bacc[kPer] = {};

  for (int n0 = 0; n0 < rows; n0 += kTile) {
    for (int k = ty; k < kTile; k += kRowsY) {
      const int n = n0 + k;
      float d = 0.0f, x = 0.0f;
      if (n < rows && o0 + tx < out) d = delta[static_cast<int64_t>(n) * out + o0 + tx];
      if (n < rows && i0 + tx < in) x = a[static_cast<int64_t>(n) * in + i0 + tx];
      sd[k][tx] = d * d;  // zero padding beyond the edges contributes nothing
      sa[k][tx] = x * x;
    }
    __syncthreads();
#pragma unroll 8
    for (int k = 0; k < kTile; ++k) {
      const float x2 = sa[k][tx];
#pragma unroll
      for (int j = 0; j < kPer; ++j) acc[j] += sd[k][ty + j * kRowsY] * x2;  // sd read is a warp broadcast
    }
    if (bias_block) {
      for (int k = 0; k < kTile; ++k)
#pragma unroll
        for (int j = 0; j < kPer; ++j) bacc[j] += sd[k][ty + j * kRowsY];
    }
    __syncthreads();
  }

#pragma unroll
  for (int j = 0; j < kPer; ++j) {
    const int o = o0 + ty + j * kRowsY;
    if (o >= out) continue;
    if (i0 + tx < in) fisher_w[static_cast<int64_t>(o) * in + i0 + tx] += scale * acc[j];
    if (bias_block) fisher_b[o] += scale * bacc[j];
  }
}

}  // namespace

namespace cuda {

// fisher_b may be null (weights only), a small extension of the CPU twin's contract.
void fisher_accumulate(const float* delta, const float* a, int rows, int out, int in, float scale, float* fisher_w,
                       float* fisher_b) {
  if (rows <= 0 || out <= 0 || in < 0) return;
  // At least one input tile even when in == 0, so the bias is still accumulated.
  const dim3 grid(in > 0 ? (in + kTile - 1) / kTile : 1, (out + kTile - 1) / kTile);
  const dim3 block(kTile, kRowsY);
  fisher_kernel<<<grid, block, 0, cuda::stream()>>>(delta, a, rows, out, in, scale, fisher_w, fisher_b);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
