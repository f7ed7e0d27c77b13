// Batch normalisation on the GPU. Training forward and backward: one block per channel walks the
// channel's M = n*hw values (two-pass mean / variance, like the CPU reference), reducing inside the
// block, so the statistics are deterministic and need no atomics. Channel counts are small (10-64),
// so this leaves most of a large GPU idle; at these sizes the kernels are bandwidth-trivial and a
// split reduction is not worth its complexity yet. Eval forward is a plain grid-stride map.
#include "engine/ops/batchnorm.h"
#include "kernels/cuda_common.cuh"

namespace {

constexpr int kBlock = 512;

// Block-wide sum returned to EVERY thread; unlike block_sum it may be called several times in one
// kernel (the trailing barrier keeps the next call from overwriting the scratch before all have read).
__device__ float block_allreduce(float v) {
  __shared__ float part[32];
  __shared__ float total;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0) part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float t = lane < static_cast<int>(blockDim.x / 32) ? part[lane] : 0.0f;
    t = warp_sum(t);
    if (lane == 0) total = t;
  }
  __syncthreads();
  const float r = total;
  __syncthreads();
  return r;
}

// Element e of channel ch (e in [0, n*hw)) lives at ((e / hw) * c + ch) * hw + e % hw.
__device__ inline int64_t at(int64_t e, int c, int hw, int ch) {
  return ((e / hw) * c + ch) * static_cast<int64_t>(hw) + e % hw;
}

__global__ void bn_fwd_train_kernel(const float* x, const float* gamma, const float* beta, int n, int c, int hw,
                                    float eps, float momentum, float* y, float* save_mean, float* save_invstd,
                                    float* running_mean, float* running_var) {
  const int ch = blockIdx.x;
  const int64_t m = static_cast<int64_t>(n) * hw;
  float s = 0.0f;
  for (int64_t e = threadIdx.x; e < m; e += blockDim.x) s += x[at(e, c, hw, ch)];
  const float mean = block_allreduce(s) / static_cast<float>(m);
  float sq = 0.0f;
  for (int64_t e = threadIdx.x; e < m; e += blockDim.x) {
    const float d = x[at(e, c, hw, ch)] - mean;
    sq += d * d;
  }
  const float var = block_allreduce(sq) / static_cast<float>(m);
  const float invstd = rsqrtf(var + eps);
  const float scale = gamma[ch] * invstd, shift = beta[ch] - mean * scale;
  for (int64_t e = threadIdx.x; e < m; e += blockDim.x) {
    const int64_t i = at(e, c, hw, ch);
    y[i] = x[i] * scale + shift;
  }
  if (threadIdx.x == 0) {
    save_mean[ch] = mean;
    save_invstd[ch] = invstd;
    if (running_mean) running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
    if (running_var) {
      const float unbiased = m > 1 ? var * static_cast<float>(m) / static_cast<float>(m - 1) : var;
      running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
    }
  }
}

__global__ void bn_fwd_eval_kernel(const float* x, const float* gamma, const float* beta, const float* running_mean,
                                   const float* running_var, int c, int hw, float eps, int64_t total, float* y) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int ch = static_cast<int>((i / hw) % c);
    const float scale = gamma[ch] * rsqrtf(running_var[ch] + eps);
    y[i] = (x[i] - running_mean[ch]) * scale + beta[ch];
  }
}

__global__ void bn_bwd_kernel(const float* x, const float* dy, const float* gamma, const float* save_mean,
                              const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta) {
  const int ch = blockIdx.x;
  const int64_t m = static_cast<int64_t>(n) * hw;
  const float mean = save_mean[ch], invstd = save_invstd[ch];
  float s_dy = 0.0f, s_dy_xhat = 0.0f;
  for (int64_t e = threadIdx.x; e < m; e += blockDim.x) {
    const int64_t i = at(e, c, hw, ch);
    s_dy += dy[i];
    s_dy_xhat += dy[i] * ((x[i] - mean) * invstd);
  }
  s_dy = block_allreduce(s_dy);
  s_dy_xhat = block_allreduce(s_dy_xhat);
  if (threadIdx.x == 0) {
    if (dbeta) dbeta[ch] += s_dy;
    if (dgamma) dgamma[ch] += s_dy_xhat;
  }
  if (!dx) return;
  const float k = gamma[ch] * invstd;
  const float mean_dy = s_dy / static_cast<float>(m), mean_dy_xhat = s_dy_xhat / static_cast<float>(m);
  for (int64_t e = threadIdx.x; e < m; e += blockDim.x) {
    const int64_t i = at(e, c, hw, ch);
    dx[i] = k * (dy[i] - mean_dy - (x[i] - mean) * invstd * mean_dy_xhat);
  }
}

}  // namespace

namespace cuda {

void batchnorm_fwd_train(const float* x, const float* gamma, const float* beta, int n, int c, int hw, float eps,
                         float momentum, float* y, float* save_mean, float* save_invstd, float* running_mean,
                         float* running_var) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  bn_fwd_train_kernel<<<c, kBlock>>>(x, gamma, beta, n, c, hw, eps, momentum, y, save_mean, save_invstd, running_mean,
                                     running_var);
  CUDA_LAUNCH_CHECK();
}

void batchnorm_fwd_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                        const float* running_var, int n, int c, int hw, float eps, float* y) {
  const int64_t total = static_cast<int64_t>(n) * c * hw;
  if (total <= 0) return;
  bn_fwd_eval_kernel<<<grid_for(total, 256), 256>>>(x, gamma, beta, running_mean, running_var, c, hw, eps, total, y);
  CUDA_LAUNCH_CHECK();
}

void batchnorm_bwd(const float* x, const float* dy, const float* gamma, const float* save_mean,
                   const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  bn_bwd_kernel<<<c, kBlock>>>(x, dy, gamma, save_mean, save_invstd, n, c, hw, dx, dgamma, dbeta);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
