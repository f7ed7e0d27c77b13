#include <cmath>

#include "engine/ops/bce_logits.h"

namespace cpu {

void bce_logits(const float* logits, const float* target, int64_t n, float scale, float* dlogits, float* loss_sum) {
  double loss = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    float l = logits[i], t = target[i];
    // max(l,0) - l t + log(1 + e^-|l|) never overflows and equals -t log s - (1-t) log(1-s).
    loss += std::fmax(l, 0.0f) - l * t + std::log1p(std::exp(-std::fabs(l)));
    if (dlogits) dlogits[i] = scale * (1.0f / (1.0f + std::exp(-l)) - t);
  }
  if (loss_sum) *loss_sum += static_cast<float>(scale * loss);
}

}  // namespace cpu
