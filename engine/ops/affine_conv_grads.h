// The parameter gradients of a convolution that reads a per-channel affine map of its input,
//   y = conv(gamma_c * xhat + beta_c)      (zero padding around the affine map, as after a batch norm),
// without the data gradient of that input. Why: LNTL's first layer reads its batch-normalised images,
// and the data gradient of that 5x5 convolution, needed only for the batch norm's six parameters, cost
// as much as its weight gradient. With G = dL/dW computed as if the input were xhat, and S = dL/dW as if
// it were all ones (one channel), the chain rule through the affine map gives exactly
//   dW[o, c, t] += gamma_c * G[o, c, t] + beta_c * S[o, t]
//   dgamma_c    += sum_{o, t} W[o, c, t] * G[o, c, t]
//   dbeta_c     += sum_{o, t} W[o, c, t] * S[o, t]
// (dL/dxb = conv^T(dy), so sum dL/dxb * xhat and sum dL/dxb are those two weighted sums of dy).
#pragma once
#include "engine/backend.h"

// w, g, dw: [c_out, c_in, taps]; s: [c_out, taps]; gamma, beta, dgamma, dbeta: [c_in]. All accumulated.
AMNESIA_OP(affine_conv_grads, const float* w, const float* g, const float* s, const float* gamma, const float* beta,
           int c_out, int c_in, int taps, float* dw, float* dgamma, float* dbeta)
