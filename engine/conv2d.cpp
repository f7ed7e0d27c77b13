#include "engine/conv2d.h"

#include <cmath>

#include "engine/cpu/conv_cpu.h"

Conv2d::Conv2d(ParamStore& store, const std::string& name, int in_, int out_, int k_, int stride_, int pad_, bool bias)
    : in(in_), out(out_), k(k_), stride(stride_), pad(pad_), has_bias(bias) {
  // PyTorch's default nn.Conv2d initialisation (kaiming_uniform with a = sqrt(5)) works out to
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the weight, and the bias uses the same bound.
  const float bound = 1.0f / std::sqrt(static_cast<float>(in * k * k));
  w = store.reserve(name + ".weight", {out, in, k, k}, bound);
  if (has_bias) b = store.reserve(name + ".bias", {out}, bound);
}

Conv2d Conv2d::over(size_t w_, size_t b_, int in_, int out_, int k_, int stride_, int pad_) {
  Conv2d c;
  c.in = in_, c.out = out_, c.k = k_, c.stride = stride_, c.pad = pad_, c.w = w_, c.b = b_;
  return c;
}

// On the CPU the layer runs the CPU convolution (engine/cpu/conv_cpu.h), on CUDA the
// whole-batch composition of engine/ops/conv2d.h; each needs its own amount of scratch.
float* Conv2d::workspace(const Backend& be, const ConvGeom& g) {
  const size_t need = static_cast<size_t>(be.is_cuda() ? g.workspace_floats() : cpu::conv_workspace(g));
  if (ws_.size() < need || ws_.device() != be.device) ws_ = Buffer<float>(be, need);
  return ws_.data();
}

void Conv2d::forward(const Backend& be, const ParamStore& p, const float* x, int n, int height, int width, float* y) {
  const ConvGeom g = geom(n, height, width);
  const float* bias = has_bias ? p.value(b) : nullptr;
  if (be.is_cuda())
    conv2d_fwd(be, g, x, p.value(w), bias, y, workspace(be, g));
  else
    cpu::conv_forward(g, x, p.value(w), bias, y, workspace(be, g));
}

void Conv2d::backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int height,
                      int width, float* dx) {
  run_backward(be, p, x, dy, n, height, width, dx, p.grad(w), has_bias ? p.grad(b) : nullptr);
}

void Conv2d::backward_input(const Backend& be, const ParamStore& p, const float* dy, int n, int height, int width,
                            float* dx) {
  run_backward(be, p, nullptr, dy, n, height, width, dx, nullptr, nullptr);
}

void Conv2d::weight_grads(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int height,
                          int width, float* dw, float* db) {
  run_backward(be, p, x, dy, n, height, width, nullptr, dw, db);
}

void Conv2d::run_backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int height,
                          int width, float* dx, float* dw, float* db) {
  const ConvGeom g = geom(n, height, width);
  if (be.is_cuda())
    conv2d_bwd(be, g, x, p.value(w), dy, dx, dw, db, workspace(be, g));
  else
    cpu::conv_backward(g, x, p.value(w), dy, dx, dw, db, workspace(be, g));
}
