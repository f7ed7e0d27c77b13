// Reparameterization z = mu + sigma * eps fused with KL(N(mu, sigma^2) || N(0, I)), h = [mu | logvar] per row.
// KL = -1/2 sum(1 + logvar - mu^2 - exp(logvar)), summed over the batch (DESIGN.md section 2).
// Forward: one pass writes z and block-reduces the KL, one atomicAdd per block into kl_sum.
// Backward: one pass writes both halves of dh (it overwrites, it does not accumulate):
//   dmu = dz + kl_scale * mu
//   dlv = dz * eps * sigma / 2 + kl_scale * (exp(logvar) - 1) / 2
#include "engine/ops/reparam_kl.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void reparam_kl_fwd_kernel(const float* h, const float* eps, int zdim, int64_t n, float kl_scale, float* z,
                                      float* kl_sum) {
  float kl = 0.0f;
  GRID_STRIDE(i, n) {
    const int64_t r = i / zdim;
    const int j = static_cast<int>(i - r * zdim);
    const float mu = h[r * 2 * zdim + j];
    const float lv = h[r * 2 * zdim + zdim + j];
    const float var = expf(lv);
    z[i] = mu + sqrtf(var) * eps[i];
    kl += -0.5f * (1.0f + lv - mu * mu - var);
  }
  if (!kl_sum) return;  // same for every thread of the block
  kl = block_sum(kl);
  if (threadIdx.x == 0) atomicAdd(kl_sum, kl_scale * kl);
}

__global__ void reparam_kl_bwd_kernel(const float* h, const float* eps, const float* dz, int zdim, int64_t n,
                                      float kl_scale, float* dh) {
  GRID_STRIDE(i, n) {
    const int64_t r = i / zdim;
    const int j = static_cast<int>(i - r * zdim);
    const int64_t k_mu = r * 2 * zdim + j, k_lv = k_mu + zdim;
    const float mu = h[k_mu];
    const float var = expf(h[k_lv]);
    const float g = dz ? dz[i] : 0.0f;
    dh[k_mu] = g + kl_scale * mu;
    dh[k_lv] = g * eps[i] * 0.5f * sqrtf(var) + kl_scale * 0.5f * (var - 1.0f);
  }
}

}  // namespace

namespace cuda {

void reparam_kl_fwd(const float* h, const float* eps, int rows, int zdim, float kl_scale, float* z, float* kl_sum) {
  const int64_t n = static_cast<int64_t>(rows) * zdim;
  if (n <= 0) return;
  reparam_kl_fwd_kernel<<<grid_for(n, kBlock, 1024), kBlock, 0, cuda::stream()>>>(h, eps, zdim, n, kl_scale, z, kl_sum);
  CUDA_LAUNCH_CHECK();
}

void reparam_kl_bwd(const float* h, const float* eps, const float* dz, int rows, int zdim, float kl_scale, float* dh) {
  const int64_t n = static_cast<int64_t>(rows) * zdim;
  if (n <= 0) return;
  reparam_kl_bwd_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(h, eps, dz, zdim, n, kl_scale, dh);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
