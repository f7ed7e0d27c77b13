// Bias + activation epilogue after a GEMM, and its backward.
// Forward: one grid-stride pass, y = act(y + bias[col]) in place.
// Backward: dy <- dy * act'(y) in place, plus dbias[c] += sum_r dy[r,c]. One block owns a strip of
// 32 columns and walks all rows, so each column sum is reduced inside one block: deterministic,
// no atomics, and each warp reads 32 consecutive floats of a row (coalesced).
#include "engine/ops/bias_act.h"
#include "kernels/cuda_common.cuh"

namespace {

template <Act A>
__device__ inline float activate(float x) {
  if constexpr (A == Act::ReLU) return x > 0.0f ? x : 0.0f;
  if constexpr (A == Act::Sigmoid) return 1.0f / (1.0f + expf(-x));
  if constexpr (A == Act::Tanh) return tanhf(x);
  return x;
}

// Derivative written through the forward output y, so the pre-activation need not be kept.
template <Act A>
__device__ inline float activate_grad(float y) {
  if constexpr (A == Act::ReLU) return y > 0.0f ? 1.0f : 0.0f;
  if constexpr (A == Act::Sigmoid) return y * (1.0f - y);
  if constexpr (A == Act::Tanh) return 1.0f - y * y;
  return 1.0f;
}

template <Act A>
__global__ void bias_act_fwd_kernel(float* y, const float* bias, int64_t n, int cols) {
  GRID_STRIDE(i, n) {
    float v = y[i];
    if (bias) v += bias[i % cols];
    y[i] = activate<A>(v);
  }
}

constexpr int kStrip = 32;      // columns per block (one warp wide)
constexpr int kRowThreads = 16; // rows walked in parallel inside a block

template <Act A>
__global__ void bias_act_bwd_kernel(float* dy, const float* y, float* dbias, int rows, int cols) {
  __shared__ float part[kRowThreads][kStrip + 1];
  const int c = blockIdx.x * kStrip + threadIdx.x;
  float sum = 0.0f;
  if (c < cols) {
    for (int r = threadIdx.y; r < rows; r += kRowThreads) {
      const int64_t i = static_cast<int64_t>(r) * cols + c;
      const float g = dy[i] * activate_grad<A>(y[i]);
      dy[i] = g;
      sum += g;
    }
  }
  if (!dbias) return;  // uniform across the block, so no thread is left waiting at the barrier
  part[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && c < cols) {
    float total = 0.0f;
    for (int k = 0; k < kRowThreads; ++k) total += part[k][threadIdx.x];
    dbias[c] += total;
  }
}

template <Act A>
void launch_fwd(float* y, const float* bias, int rows, int cols) {
  const int64_t n = static_cast<int64_t>(rows) * cols;
  bias_act_fwd_kernel<A><<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(y, bias, n, cols);
  CUDA_LAUNCH_CHECK();
}

template <Act A>
void launch_bwd(float* dy, const float* y, float* dbias, int rows, int cols) {
  const dim3 block(kStrip, kRowThreads);
  const dim3 grid((cols + kStrip - 1) / kStrip);
  bias_act_bwd_kernel<A><<<grid, block, 0, cuda::stream()>>>(dy, y, dbias, rows, cols);
  CUDA_LAUNCH_CHECK();
}

}  // namespace

namespace cuda {

void bias_act_fwd(float* y, const float* bias, int rows, int cols, Act act) {
  if (rows <= 0 || cols <= 0) return;
  switch (act) {
    case Act::None: if (bias) launch_fwd<Act::None>(y, bias, rows, cols); break;  // nothing to do without a bias
    case Act::ReLU: launch_fwd<Act::ReLU>(y, bias, rows, cols); break;
    case Act::Sigmoid: launch_fwd<Act::Sigmoid>(y, bias, rows, cols); break;
    case Act::Tanh: launch_fwd<Act::Tanh>(y, bias, rows, cols); break;
  }
}

void bias_act_bwd(float* dy, const float* y, float* dbias, int rows, int cols, Act act) {
  if (rows <= 0 || cols <= 0) return;
  switch (act) {
    case Act::None: if (dbias) launch_bwd<Act::None>(dy, y, dbias, rows, cols); break;  // dy unchanged otherwise
    case Act::ReLU: launch_bwd<Act::ReLU>(dy, y, dbias, rows, cols); break;
    case Act::Sigmoid: launch_bwd<Act::Sigmoid>(dy, y, dbias, rows, cols); break;
    case Act::Tanh: launch_bwd<Act::Tanh>(dy, y, dbias, rows, cols); break;
  }
}

}  // namespace cuda
