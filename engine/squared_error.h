// Summed squared error to a target image, scale * sum_i (x_i - t_i)^2, with its gradient: the gray-out
// loss (target 0.5 everywhere) and the prototype attack (target a digit drawn from the original model).
// It is the fused EWC op with unit weights: lambda * sum_i F_i (theta_i - theta*_i)^2 with F = 1 is exactly
// this sum, and its gradient 2 lambda (theta - theta*) is the squared error's. So no new kernel is needed.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "engine/buffer.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/ewc.h"

class SquaredError {
 public:
  SquaredError() = default;
  // capacity: the most elements one call will see.
  SquaredError(const Backend& be, int64_t capacity) : ones_(be, static_cast<size_t>(capacity)) {
    fill(be, ones_.data(), capacity, 1.0f);
  }
  // Adds scale * sum (x - target)^2 to *loss_sum (device scalar, may be null) and ADDS 2 scale (x - target)
  // to grad (not null; the caller zeroes it first when it holds nothing else).
  void operator()(const Backend& be, const float* x, const float* target, int64_t n, float scale, float* grad,
                  float* loss_sum) const {
    if (n > static_cast<int64_t>(ones_.size())) throw std::runtime_error("SquaredError: more elements than its capacity");
    ewc_penalty_and_grad(be, x, target, ones_.data(), n, scale, grad, loss_sum);
  }

 private:
  Buffer<float> ones_;
};
