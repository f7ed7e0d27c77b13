// Batch normalisation on the GPU. A channel's M = n*hw values are split into `parts` contiguous slices
// of the channel's index space, one block per (slice, channel), so even the 3 channels of LNTL's input
// batch norm fill the GPU. Each block writes its slice's partial sum to a small scratch array; the next
// launch's blocks each combine all partials of their channel in the same fixed order, so the statistics
// are deterministic and need no atomics. Training forward: partial sums -> mean, partial squared
// deviations -> variance (two-pass, like the CPU reference), then normalise. Backward: partial
// sum dy and sum dy*xhat, then dx. Eval forward is a plain grid-stride map.
#include "engine/ops/batchnorm.h"
#include "kernels/cuda_common.cuh"

namespace {

constexpr int kBnBlock = 256;
constexpr int64_t kPerBlock = 2048;  // values per slice, at least (a few per thread)
constexpr int kMaxParts = 64;

// Element e of channel ch (e in [0, n*hw)) lives at ((e / hw) * c + ch) * hw + e % hw.
__device__ inline int64_t at(int64_t e, int c, int hw, int ch) {
  return ((e / hw) * c + ch) * static_cast<int64_t>(hw) + e % hw;
}

// This block's slice [begin, end) of its channel's m values, split into gridDim.x parts.
struct Slice {
  int64_t begin, end;
};
__device__ inline Slice my_slice(int64_t m) {
  const int64_t chunk = (m + gridDim.x - 1) / gridDim.x;
  const int64_t begin = blockIdx.x * chunk;
  return {begin, begin + chunk < m ? begin + chunk : m};
}

// Sum of the channel's `parts` partials in a fixed order (in double), broadcast to the block.
__device__ inline float channel_total(const float* partial, int parts) {
  __shared__ float total;
  if (threadIdx.x == 0) {
    double s = 0.0;
    for (int p = 0; p < parts; ++p) s += partial[p];
    total = static_cast<float>(s);
  }
  __syncthreads();
  const float t = total;
  __syncthreads();
  return t;
}

__global__ void bn_partial_sum_kernel(const float* x, int c, int hw, int64_t m, float* partial) {
  const int ch = blockIdx.y;
  const Slice sl = my_slice(m);
  float s = 0.0f;
  for (int64_t e = sl.begin + threadIdx.x; e < sl.end; e += blockDim.x) s += x[at(e, c, hw, ch)];
  s = block_sum(s);
  if (threadIdx.x == 0) partial[ch * gridDim.x + blockIdx.x] = s;
}

__global__ void bn_partial_sqdev_kernel(const float* x, int c, int hw, int64_t m, const float* sums, float* partial) {
  const int ch = blockIdx.y;
  const float mean = channel_total(sums + ch * gridDim.x, gridDim.x) / static_cast<float>(m);
  const Slice sl = my_slice(m);
  float sq = 0.0f;
  for (int64_t e = sl.begin + threadIdx.x; e < sl.end; e += blockDim.x) {
    const float d = x[at(e, c, hw, ch)] - mean;
    sq += d * d;
  }
  sq = block_sum(sq);
  if (threadIdx.x == 0) partial[ch * gridDim.x + blockIdx.x] = sq;
}

__global__ void bn_normalise_kernel(const float* x, const float* gamma, const float* beta, int c, int hw, int64_t m,
                                    float eps, float momentum, const float* sums, const float* sqdevs, float* y,
                                    float* save_mean, float* save_invstd, float* running_mean, float* running_var) {
  const int ch = blockIdx.y;
  const float mean = channel_total(sums + ch * gridDim.x, gridDim.x) / static_cast<float>(m);
  const float var = channel_total(sqdevs + ch * gridDim.x, gridDim.x) / static_cast<float>(m);
  const float invstd = rsqrtf(var + eps);
  const float scale = gamma[ch] * invstd, shift = beta[ch] - mean * scale;
  const Slice sl = my_slice(m);
  for (int64_t e = sl.begin + threadIdx.x; e < sl.end; e += blockDim.x) {
    const int64_t i = at(e, c, hw, ch);
    y[i] = x[i] * scale + shift;
  }
  if (blockIdx.x != 0 || threadIdx.x != 0) return;
  save_mean[ch] = mean;
  save_invstd[ch] = invstd;
  if (running_mean) running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
  if (running_var) {
    const float unbiased = m > 1 ? var * static_cast<float>(m) / static_cast<float>(m - 1) : var;
    running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * unbiased;
  }
}

__global__ void bn_fwd_eval_kernel(const float* x, const float* gamma, const float* beta, const float* running_mean,
                                   const float* running_var, int c, int hw, float eps, int64_t total, float* y) {
  GRID_STRIDE(i, total) {
    const int ch = static_cast<int>((i / hw) % c);
    const float scale = gamma[ch] * rsqrtf(running_var[ch] + eps);
    y[i] = (x[i] - running_mean[ch]) * scale + beta[ch];
  }
}

__global__ void bn_bwd_partial_kernel(const float* x, const float* dy, const float* save_mean,
                                      const float* save_invstd, int c, int hw, int64_t m, float* part_dy,
                                      float* part_dy_xhat) {
  const int ch = blockIdx.y;
  const float mean = save_mean[ch], invstd = save_invstd[ch];
  const Slice sl = my_slice(m);
  float s_dy = 0.0f, s_dy_xhat = 0.0f;
  for (int64_t e = sl.begin + threadIdx.x; e < sl.end; e += blockDim.x) {
    const int64_t i = at(e, c, hw, ch);
    s_dy += dy[i];
    s_dy_xhat += dy[i] * ((x[i] - mean) * invstd);
  }
  s_dy = block_allreduce(s_dy);
  s_dy_xhat = block_allreduce(s_dy_xhat);
  if (threadIdx.x == 0) {
    part_dy[ch * gridDim.x + blockIdx.x] = s_dy;
    part_dy_xhat[ch * gridDim.x + blockIdx.x] = s_dy_xhat;
  }
}

__global__ void bn_bwd_dx_kernel(const float* x, const float* dy, const float* gamma, const float* save_mean,
                                 const float* save_invstd, int c, int hw, int64_t m, const float* part_dy,
                                 const float* part_dy_xhat, float* dx, float* dgamma, float* dbeta) {
  const int ch = blockIdx.y;
  const float s_dy = channel_total(part_dy + ch * gridDim.x, gridDim.x);
  const float s_dy_xhat = channel_total(part_dy_xhat + ch * gridDim.x, gridDim.x);
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    if (dbeta) dbeta[ch] += s_dy;
    if (dgamma) dgamma[ch] += s_dy_xhat;
  }
  if (!dx) return;
  const float mean = save_mean[ch], invstd = save_invstd[ch];
  const float k = gamma[ch] * invstd;
  const float mean_dy = s_dy / static_cast<float>(m), mean_dy_xhat = s_dy_xhat / static_cast<float>(m);
  const Slice sl = my_slice(m);
  for (int64_t e = sl.begin + threadIdx.x; e < sl.end; e += blockDim.x) {
    const int64_t i = at(e, c, hw, ch);
    dx[i] = k * (dy[i] - mean_dy - (x[i] - mean) * invstd * mean_dy_xhat);
  }
}

// Slices per channel: enough blocks to fill the GPU, each with a few values per thread.
int parts_for(int64_t m) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(kMaxParts, (m + kPerBlock - 1) / kPerBlock)));
}

// Scratch for the partials (2 x channels x parts floats), grown on demand and kept: after the first
// step of a run nothing is allocated (a cudaFree would synchronise, and cannot be captured in a graph).
float* partials(size_t floats) {
  static float* buf = nullptr;
  static size_t capacity = 0;
  if (floats > capacity) {
    if (buf) CUDA_CHECK(cudaFree(buf));
    buf = nullptr;
    CUDA_CHECK(cudaMalloc(&buf, floats * sizeof(float)));
    capacity = floats;
  }
  return buf;
}

}  // namespace

namespace cuda {

void batchnorm_fwd_train(const float* x, const float* gamma, const float* beta, int n, int c, int hw, float eps,
                         float momentum, float* y, float* save_mean, float* save_invstd, float* running_mean,
                         float* running_var) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  const int64_t m = static_cast<int64_t>(n) * hw;
  const int parts = parts_for(m);
  float* sums = partials(2 * static_cast<size_t>(c) * parts);
  float* sqdevs = sums + static_cast<size_t>(c) * parts;
  const dim3 grid(parts, c);
  bn_partial_sum_kernel<<<grid, kBnBlock, 0, cuda::stream()>>>(x, c, hw, m, sums);
  CUDA_LAUNCH_CHECK();
  bn_partial_sqdev_kernel<<<grid, kBnBlock, 0, cuda::stream()>>>(x, c, hw, m, sums, sqdevs);
  CUDA_LAUNCH_CHECK();
  bn_normalise_kernel<<<grid, kBnBlock, 0, cuda::stream()>>>(x, gamma, beta, c, hw, m, eps, momentum, sums, sqdevs, y,
                                                             save_mean, save_invstd, running_mean, running_var);
  CUDA_LAUNCH_CHECK();
}

void batchnorm_fwd_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                        const float* running_var, int n, int c, int hw, float eps, float* y) {
  const int64_t total = static_cast<int64_t>(n) * c * hw;
  if (total <= 0) return;
  bn_fwd_eval_kernel<<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(x, gamma, beta, running_mean,
                                                                            running_var, c, hw, eps, total, y);
  CUDA_LAUNCH_CHECK();
}

void batchnorm_bwd(const float* x, const float* dy, const float* gamma, const float* save_mean,
                   const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta) {
  if (n <= 0 || c <= 0 || hw <= 0) return;
  const int64_t m = static_cast<int64_t>(n) * hw;
  const int parts = parts_for(m);
  float* part_dy = partials(2 * static_cast<size_t>(c) * parts);
  float* part_dy_xhat = part_dy + static_cast<size_t>(c) * parts;
  const dim3 grid(parts, c);
  bn_bwd_partial_kernel<<<grid, kBnBlock, 0, cuda::stream()>>>(x, dy, save_mean, save_invstd, c, hw, m, part_dy,
                                                               part_dy_xhat);
  CUDA_LAUNCH_CHECK();
  bn_bwd_dx_kernel<<<grid, kBnBlock, 0, cuda::stream()>>>(x, dy, gamma, save_mean, save_invstd, c, hw, m, part_dy,
                                                          part_dy_xhat, dx, dgamma, dbeta);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
