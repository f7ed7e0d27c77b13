#include "engine/linear.h"

#include <cmath>

#include "engine/ops/fisher.h"
#include "engine/ops/gemm.h"

Linear::Linear(ParamStore& store, const std::string& name, int in_, int out_, Act act_) : in(in_), out(out_), act(act_) {
  // PyTorch's default nn.Linear initialisation: U(-1/sqrt(in), 1/sqrt(in)) for weight and bias.
  float bound = 1.0f / std::sqrt(static_cast<float>(in));
  w = store.reserve(name + ".weight", {out, in}, bound);
  b = store.reserve(name + ".bias", {out}, bound);
}

void Linear::forward(const Backend& be, const ParamStore& p, const float* x, int rows, float* y) const {
  gemm(be, false, true, rows, out, in, 1.0f, x, p.value(w), 0.0f, y);
  bias_act_fwd(be, y, p.value(b), rows, out, act);
}

void Linear::backward(const Backend& be, const ParamStore& p, const float* x, const float* y, float* dy, int rows,
                      float* dx, float* fisher, float fisher_scale) const {
  if (fisher) {
    bias_act_bwd(be, dy, y, nullptr, rows, out, act);
    fisher_accumulate(be, dy, x, rows, out, in, fisher_scale, fisher + w, fisher + b);
  } else {
    bias_act_bwd(be, dy, y, p.grad(b), rows, out, act);
    gemm(be, true, false, out, in, rows, 1.0f, dy, x, 1.0f, p.grad(w));
  }
  if (dx) gemm(be, false, false, rows, in, out, 1.0f, dy, p.value(w), 0.0f, dx);
}
