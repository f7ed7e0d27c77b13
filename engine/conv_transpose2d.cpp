#include "engine/conv_transpose2d.h"

#include <cmath>
#include <stdexcept>

ConvTranspose2d::ConvTranspose2d(ParamStore& store, const std::string& name, int in_, int out_, int k_, int stride_,
                                 int pad_, int out_pad_, bool bias)
    : in(in_), out(out_), k(k_), stride(stride_), pad(pad_), out_pad(out_pad_), has_bias(bias) {
  if (out_pad < 0 || out_pad >= stride) throw std::invalid_argument(name + ": output padding must lie in [0, stride)");
  // PyTorch's default initialisation, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias, where its
  // fan_in is read off dimension 1 of the [in, out, k, k] weight: out * k * k.
  const float bound = 1.0f / std::sqrt(static_cast<float>(out * k * k));
  w = store.reserve(name + ".weight", {in, out, k, k}, bound);
  if (has_bias) b = store.reserve(name + ".bias", {out}, bound);
}

float* ConvTranspose2d::workspace(const Backend& be, const ConvTransposeGeom& g) {
  const size_t need = static_cast<size_t>(g.workspace_floats());
  if (ws_.size() < need || ws_.device() != be.device) ws_ = Buffer<float>(be, need);
  return ws_.data();
}

void ConvTranspose2d::forward(const Backend& be, const ParamStore& p, const float* x, int n, int height, int width,
                              float* y) {
  const ConvTransposeGeom g = geom(n, height, width);
  conv_transpose2d_fwd(be, g, x, p.value(w), has_bias ? p.value(b) : nullptr, y, workspace(be, g));
}

void ConvTranspose2d::backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n,
                               int height, int width, float* dx) {
  const ConvTransposeGeom g = geom(n, height, width);
  conv_transpose2d_bwd(be, g, x, p.value(w), dy, dx, p.grad(w), has_bias ? p.grad(b) : nullptr, workspace(be, g));
}
