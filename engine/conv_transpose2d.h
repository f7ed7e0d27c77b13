// 2-D transposed convolution layer on NCHW tensors (the upsampling half of a conv autoencoder): weight
// [in, out, k, k] and bias [out] in the ParamStore, as PyTorch's nn.ConvTranspose2d (names
// "<name>.weight", "<name>.bias"). The math is engine/ops/conv_transpose2d.h: the adjoint of a Conv2d,
// built from the same im2col / col2im + GEMM primitives. The layer owns its scratch and grows it on demand.
#pragma once
#include <string>

#include "engine/ops/conv_transpose2d.h"
#include "engine/params.h"

class ConvTranspose2d {
 public:
  int in = 0, out = 0, k = 1, stride = 1, pad = 0, out_pad = 0;
  bool has_bias = true;
  size_t w = 0, b = 0;  // offsets in the ParamStore (b is meaningless without a bias)

  ConvTranspose2d() = default;
  // Throws std::invalid_argument unless 0 <= out_pad < stride (PyTorch's rule for output_padding).
  ConvTranspose2d(ParamStore& store, const std::string& name, int in, int out, int k, int stride = 1, int pad = 0,
                  int out_pad = 0, bool bias = true);

  int out_h(int height) const { return (height - 1) * stride - 2 * pad + k + out_pad; }
  int out_w(int width) const { return (width - 1) * stride - 2 * pad + k + out_pad; }
  ConvTransposeGeom geom(int n, int height, int width) const {
    return ConvTransposeGeom{n, in, height, width, out, k, stride, pad, out_pad};
  }

  // x: n x in x height x width  ->  y: n x out x out_h(height) x out_w(width).
  void forward(const Backend& be, const ParamStore& p, const float* x, int n, int height, int width, float* y);
  // Accumulates dW (and db) into p's gradients from dy (n x out x OH x OW); writes dx (same shape as x)
  // when dx is not null. x is the forward input.
  void backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int height, int width,
                float* dx);

 private:
  float* workspace(const Backend& be, const ConvTransposeGeom& g);
  Buffer<float> ws_;
};
