#include <cmath>

#include "engine/ops/reparam_kl.h"

namespace cpu {

void reparam_kl_fwd(const float* h, const float* eps, int rows, int zdim, float kl_scale, float* z, float* kl_sum) {
  double kl = 0.0;
  for (int r = 0; r < rows; ++r) {
    const float* mu = h + static_cast<long>(r) * 2 * zdim;
    const float* lv = mu + zdim;
    for (int j = 0; j < zdim; ++j) {
      float var = std::exp(lv[j]);
      z[static_cast<long>(r) * zdim + j] = mu[j] + std::sqrt(var) * eps[static_cast<long>(r) * zdim + j];
      kl += -0.5 * (1.0 + lv[j] - mu[j] * mu[j] - var);
    }
  }
  if (kl_sum) *kl_sum += static_cast<float>(kl_scale * kl);
}

void reparam_kl_bwd(const float* h, const float* eps, const float* dz, int rows, int zdim, float kl_scale, float* dh) {
  for (int r = 0; r < rows; ++r) {
    const float* mu = h + static_cast<long>(r) * 2 * zdim;
    const float* lv = mu + zdim;
    float* dmu = dh + static_cast<long>(r) * 2 * zdim;
    float* dlv = dmu + zdim;
    for (int j = 0; j < zdim; ++j) {
      long k = static_cast<long>(r) * zdim + j;
      float var = std::exp(lv[j]);
      float g = dz ? dz[k] : 0.0f;
      dmu[j] = g + kl_scale * mu[j];
      dlv[j] = g * eps[k] * 0.5f * std::sqrt(var) + kl_scale * 0.5f * (var - 1.0f);
    }
  }
}

}  // namespace cpu
