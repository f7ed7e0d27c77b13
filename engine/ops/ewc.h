// Elastic weight consolidation: penalty lambda * sum_i F_i (theta_i - theta*_i)^2 and its gradient,
// fused in one pass over the flat parameter buffer.
#pragma once
#include <cstdint>
#include "engine/backend.h"

#define EWC_ARGS const float* theta, const float* theta_star, const float* fisher, int64_t n, float lambda, float* grad, float* penalty_sum
namespace cpu { void ewc_penalty_and_grad(EWC_ARGS); }
namespace cuda { void ewc_penalty_and_grad(EWC_ARGS); }
#undef EWC_ARGS

// Adds the penalty to *penalty_sum (device scalar, may be null) and 2 lambda F (theta - theta*) to grad.
inline void ewc_penalty_and_grad(const Backend& be, const float* theta, const float* theta_star, const float* fisher,
                                 int64_t n, float lambda, float* grad, float* penalty_sum) {
  AMNESIA_DISPATCH(be, ewc_penalty_and_grad, theta, theta_star, fisher, n, lambda, grad, penalty_sum);
}
