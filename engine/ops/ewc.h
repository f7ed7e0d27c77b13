// Elastic weight consolidation: penalty lambda * sum_i F_i (theta_i - theta*_i)^2 and its gradient,
// fused in one pass over the flat parameter buffer.
#pragma once
#include <cstdint>
#include <stdexcept>
#include "engine/backend.h"

AMNESIA_TWINS(ewc_penalty_and_grad, const float* theta, const float* theta_star, const float* fisher, int64_t n,
              float lambda, float* grad, float* penalty_sum)

// Adds the penalty to *penalty_sum and 2 lambda F (theta - theta*) to grad. Either output may be null
// (not wanted) on both devices; the three inputs are required, and a null one throws here, before a
// device could fault on it.
inline void ewc_penalty_and_grad(const Backend& be, const float* theta, const float* theta_star, const float* fisher,
                                 int64_t n, float lambda, float* grad, float* penalty_sum) {
  if (n > 0 && (!theta || !theta_star || !fisher))
    throw std::invalid_argument("ewc_penalty_and_grad: theta, theta_star and fisher must not be null");
  AMNESIA_DISPATCH(be, ewc_penalty_and_grad, theta, theta_star, fisher, n, lambda, grad, penalty_sum);
}
