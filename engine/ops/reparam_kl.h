// Reparameterization z = mu + exp(logvar / 2) * eps fused with the Gaussian KL to N(0, I).
// h holds the encoder head as [mu | logvar], rows x 2*zdim.
#pragma once
#include "engine/backend.h"

// Writes z; adds kl_scale * sum_rows KL(q || N(0,I)) to *kl_sum (a device scalar); kl_sum may be null.
AMNESIA_OP(reparam_kl_fwd, const float* h, const float* eps, int rows, int zdim, float kl_scale, float* z,
           float* kl_sum)
// Writes dh = d(loss)/dh where loss = (decoder loss through z) + kl_scale * KL; dz may be null (KL only).
AMNESIA_OP(reparam_kl_bwd, const float* h, const float* eps, const float* dz, int rows, int zdim, float kl_scale,
           float* dh)
