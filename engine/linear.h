// Fully connected layer y = act(x W^T + b), W stored [out, in] as in PyTorch.
#pragma once
#include <string>

#include "engine/ops/bias_act.h"
#include "engine/params.h"

struct Linear {
  int in = 0, out = 0;
  Act act = Act::None;
  size_t w = 0, b = 0;  // offsets in the ParamStore

  Linear() = default;
  Linear(ParamStore& store, const std::string& name, int in, int out, Act act);

  // y: rows x out.
  void forward(const Backend& be, const ParamStore& p, const float* x, int rows, float* y) const;
  // dy (rows x out, gradient w.r.t. the activation output y) is turned in place into the gradient
  // w.r.t. the pre-activation. Accumulates dW, db into p's gradients, or, when fisher is not null,
  // the per-sample squared gradients into the flat Fisher buffer instead. Writes dx when not null.
  void backward(const Backend& be, const ParamStore& p, const float* x, const float* y, float* dy, int rows, float* dx,
                float* fisher = nullptr, float fisher_scale = 1.0f) const;
};
