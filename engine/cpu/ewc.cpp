#include "engine/ops/ewc.h"

namespace cpu {

void ewc_penalty_and_grad(const float* theta, const float* theta_star, const float* fisher, int64_t n, float lambda,
                          float* grad, float* penalty_sum) {
  double penalty = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    float d = theta[i] - theta_star[i];
    penalty += static_cast<double>(fisher[i]) * d * d;
    if (grad) grad[i] += 2.0f * lambda * fisher[i] * d;
  }
  if (penalty_sum) *penalty_sum += static_cast<float>(lambda * penalty);
}

}  // namespace cpu
