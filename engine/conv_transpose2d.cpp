#include "engine/conv_transpose2d.h"

#include <cmath>
#include <stdexcept>

#include "engine/cpu/conv_chunks.h"
#include "engine/cpu/conv_cpu.h"
#include "engine/cpu/thread_pool.h"

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

// The CPU runs the mirror convolution through the CPU convolution (engine/cpu/conv_cpu.h)
// plus kSlices * out floats for the bias gradient's partial sums; CUDA the whole-batch composition.
float* ConvTranspose2d::workspace(const Backend& be, const ConvTransposeGeom& g) {
  const int64_t cpu_need = cpu::conv_workspace(g.mirror()) + static_cast<int64_t>(cpu::kSlices) * g.c_out;
  const size_t need = static_cast<size_t>(be.is_cuda() ? g.workspace_floats() : cpu_need);
  if (ws_.size() < need || ws_.device() != be.device) ws_ = Buffer<float>(be, need);
  return ws_.data();
}

void ConvTranspose2d::forward(const Backend& be, const ParamStore& p, const float* x, int n, int height, int width,
                              float* y) {
  const ConvTransposeGeom g = geom(n, height, width);
  const float* bias = has_bias ? p.value(b) : nullptr;
  float* ws = workspace(be, g);
  if (be.is_cuda()) return conv_transpose2d_fwd(be, g, x, p.value(w), bias, y, ws);
  conv_detail::check_transpose_geom(g);
  cpu::conv_backward(g.mirror(), nullptr, p.value(w), x, y, nullptr, nullptr, ws);
  if (bias) cpu::add_channel_bias(y, bias, n, out, g.oh() * g.ow());
}

void ConvTranspose2d::backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n,
                               int height, int width, float* dx) {
  const ConvTransposeGeom g = geom(n, height, width);
  float* db = has_bias ? p.grad(b) : nullptr;
  float* ws = workspace(be, g);
  if (be.is_cuda()) return conv_transpose2d_bwd(be, g, x, p.value(w), dy, dx, p.grad(w), db, ws);
  conv_detail::check_transpose_geom(g);
  const ConvGeom m = g.mirror();
  if (dx) cpu::conv_forward(m, dy, p.value(w), nullptr, dx, ws);
  cpu::conv_backward(m, dy, p.value(w), x, nullptr, p.grad(w), nullptr, ws);
  if (db) cpu::channel_sums_add(dy, n, out, g.oh() * g.ow(), db, ws + cpu::conv_workspace(m));
}
