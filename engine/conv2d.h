// 2-D convolution layer on NCHW tensors: weight [out, in, k, k] and bias [out] in the ParamStore, as
// PyTorch's nn.Conv2d (names "<name>.weight", "<name>.bias", so checkpoints map onto a state_dict).
// The layer owns the scratch its im2col + GEMM passes need and grows it on demand.
#pragma once
#include <string>

#include "engine/ops/conv2d.h"
#include "engine/params.h"

class Conv2d {
 public:
  int in = 0, out = 0, k = 1, stride = 1, pad = 0;
  bool has_bias = true;
  size_t w = 0, b = 0;  // offsets in the ParamStore (b is meaningless without a bias)

  Conv2d() = default;
  Conv2d(ParamStore& store, const std::string& name, int in, int out, int k, int stride = 1, int pad = 0,
         bool bias = true);
  // A layer over parameters reserved elsewhere: weight [out, in, k, k] at offset w and bias [out] at b. Lets
  // several same-input convolutions, reserved back to back under their own names, run as one wider one.
  static Conv2d over(size_t w, size_t b, int in, int out, int k, int stride = 1, int pad = 0);

  int out_h(int height) const { return (height + 2 * pad - k) / stride + 1; }
  int out_w(int width) const { return (width + 2 * pad - k) / stride + 1; }
  ConvGeom geom(int n, int height, int width) const { return ConvGeom{n, in, height, width, out, k, stride, pad}; }

  // x: n x in x height x width  ->  y: n x out x out_h(height) x out_w(width).
  void forward(const Backend& be, const ParamStore& p, const float* x, int n, int height, int width, float* y);
  // Accumulates dW (and db) into p's gradients from dy (n x out x OH x OW); writes dx (same shape as x)
  // when dx is not null. x is the forward input.
  void backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int height, int width,
                float* dx);
  // dx only (n x in x height x width), no parameter gradients: for a pass whose parameter gradients
  // would be thrown away (LNTL's colour heads in the f,g step).
  void backward_input(const Backend& be, const ParamStore& p, const float* dy, int n, int height, int width, float* dx);
  // dW (and db when not null) into the given buffers instead of p's gradients (accumulated), no dx: for
  // a gradient the caller combines itself (engine/input_bn_conv.h).
  void weight_grads(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int height,
                    int width, float* dw, float* db);

 private:
  float* workspace(const Backend& be, const ConvGeom& g);
  // The backward pass on this backend; dw and db null skip the parameter gradients (x is then unread).
  void run_backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int height,
                    int width, float* dx, float* dw, float* db);
  Buffer<float> ws_;
};
