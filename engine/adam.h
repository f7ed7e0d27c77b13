// Adam state for one ParamStore; each step is a single fused pass over the flat buffer.
#pragma once
#include "engine/ops/adam.h"
#include "engine/params.h"

class Adam {
 public:
  Adam() = default;  // for a member filled once its model's ParamStore is allocated
  Adam(const Backend& be, const ParamStore& p, AdamHyper h) : h_(h), m_(be, p.size()), v_(be, p.size()) {}
  // For schedules that change the rate between steps (the moments are kept).
  void set_lr(float lr) { h_.lr = lr; }
  void step(const Backend& be, const ParamStore& p) {
    adam_step(be, p.values(), p.grads(), m_.data(), v_.data(), static_cast<int64_t>(p.size()), h_, ++t_);
  }
  int steps_taken() const { return t_; }

 private:
  AdamHyper h_;
  Buffer<float> m_, v_;
  int t_ = 0;
};
