#include "engine/ops/affine_conv_grads.h"

namespace cpu {

// A few thousand weights: one thread, the sums in (o, t) order in double.
void affine_conv_grads(const float* w, const float* g, const float* s, const float* gamma, const float* beta,
                       int c_out, int c_in, int taps, float* dw, float* dgamma, float* dbeta) {
  for (int c = 0; c < c_in; ++c) {
    double wg = 0.0, ws = 0.0;
    for (int o = 0; o < c_out; ++o)
      for (int t = 0; t < taps; ++t) {
        const int64_t at = (static_cast<int64_t>(o) * c_in + c) * taps + t;
        const float st = s[static_cast<int64_t>(o) * taps + t];
        wg += static_cast<double>(w[at]) * g[at];
        ws += static_cast<double>(w[at]) * st;
        dw[at] += gamma[c] * g[at] + beta[c] * st;
      }
    dgamma[c] += static_cast<float>(wg);
    dbeta[c] += static_cast<float>(ws);
  }
}

}  // namespace cpu
