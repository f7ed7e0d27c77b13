// Reparameterization z = mu + exp(logvar / 2) * eps fused with the Gaussian KL to N(0, I).
// h holds the encoder head as [mu | logvar], rows x 2*zdim.
#pragma once
#include "engine/backend.h"

namespace cpu {
void reparam_kl_fwd(const float* h, const float* eps, int rows, int zdim, float kl_scale, float* z, float* kl_sum);
void reparam_kl_bwd(const float* h, const float* eps, const float* dz, int rows, int zdim, float kl_scale, float* dh);
}
namespace cuda {
void reparam_kl_fwd(const float* h, const float* eps, int rows, int zdim, float kl_scale, float* z, float* kl_sum);
void reparam_kl_bwd(const float* h, const float* eps, const float* dz, int rows, int zdim, float kl_scale, float* dh);
}

// Writes z; adds kl_scale * sum_rows KL(q || N(0,I)) to *kl_sum (a device scalar); kl_sum may be null.
inline void reparam_kl_fwd(const Backend& be, const float* h, const float* eps, int rows, int zdim, float kl_scale,
                           float* z, float* kl_sum) {
  AMNESIA_DISPATCH(be, reparam_kl_fwd, h, eps, rows, zdim, kl_scale, z, kl_sum);
}
// Writes dh = d(loss)/dh where loss = (decoder loss through z) + kl_scale * KL; dz may be null (KL only).
inline void reparam_kl_bwd(const Backend& be, const float* h, const float* eps, const float* dz, int rows, int zdim,
                           float kl_scale, float* dh) {
  AMNESIA_DISPATCH(be, reparam_kl_bwd, h, eps, dz, rows, zdim, kl_scale, dh);
}
