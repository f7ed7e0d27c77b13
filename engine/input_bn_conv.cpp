#include "engine/input_bn_conv.h"

#include <stdexcept>

#include "engine/ops/affine_conv_grads.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/gemm.h"

void InputBnConvGrads::reserve(const Backend& be, const BatchNorm& bn, const Conv2d& conv, int n, int height,
                               int width) {
  if (bn.c != conv.in)
    throw std::logic_error("InputBnConvGrads: the batch norm's channels are not the convolution's input");
  // Grows only: a smaller batch (an epoch's last) reuses the buffers (the first n ones of ones_n_).
  const bool same_conv = xhat_conv_.w == conv.w && xhat_conv_.b == conv.b && xhat_conv_.in == conv.in &&
                         xhat_conv_.out == conv.out && xhat_conv_.k == conv.k && xhat_conv_.stride == conv.stride &&
                         xhat_conv_.pad == conv.pad;
  if (same_conv && n <= n_ && height == height_ && width == width_ && xhat_.device() == be.device) return;
  const int64_t hw = static_cast<int64_t>(height) * width, taps = static_cast<int64_t>(conv.k) * conv.k;
  const int64_t out_hw = static_cast<int64_t>(conv.out_h(height)) * conv.out_w(width);
  xhat_conv_ = Conv2d::over(conv.w, conv.b, conv.in, conv.out, conv.k, conv.stride, conv.pad);
  ones_conv_ = Conv2d::over(conv.w, conv.b, 1, conv.out, conv.k, conv.stride, conv.pad);
  xhat_ = Buffer<float>(be, static_cast<size_t>(n * bn.c * hw));
  ones_n_ = Buffer<float>(be, n);
  ones_image_ = Buffer<float>(be, hw);
  unit_affine_ = Buffer<float>(be, 2 * bn.c);  // gamma = 1 | beta = 0
  batch_stats_ = Buffer<float>(be, 2 * bn.c);  // mean | invstd
  g_ = Buffer<float>(be, conv.out * conv.in * taps);
  s_ = Buffer<float>(be, conv.out * taps);
  dy_sum_ = Buffer<float>(be, conv.out * out_hw);
  fill(be, ones_n_.data(), n, 1.0f);
  fill(be, ones_image_.data(), hw, 1.0f);
  fill(be, unit_affine_.data(), bn.c, 1.0f);
  fill(be, unit_affine_.data() + bn.c, bn.c, 0.0f);
  n_ = n, height_ = height, width_ = width;
}

void InputBnConvGrads::backward(const Backend& be, const ParamStore& p, const BatchNorm& bn, const Conv2d& conv,
                                const float* x, const float* dy, int n, int height, int width) {
  reserve(be, bn, conv, n, height, width);
  const int hw = height * width, taps = conv.k * conv.k;
  const int out_floats = conv.out * conv.out_h(height) * conv.out_w(width);
  // xhat: the batch norm's training forward with gamma = 1, beta = 0 recomputes the batch's statistics
  // (the same op on the same x: the same values) and leaves the running statistics alone.
  batchnorm_fwd_train(be, x, unit_affine_.data(), unit_affine_.data() + bn.c, n, bn.c, hw, bn.eps, bn.momentum,
                      xhat_.data(), batch_stats_.data(), batch_stats_.data() + bn.c, nullptr, nullptr);
  // G (and the bias gradient, which the affine map does not touch).
  fill(be, g_.data(), static_cast<int64_t>(g_.size()), 0.0f);
  xhat_conv_.weight_grads(be, p, xhat_.data(), dy, n, height, width, g_.data(),
                          conv.has_bias ? p.grad(conv.b) : nullptr);
  // S: with an all-ones input every image contributes dy at the same taps, so S is the weight gradient of
  // one all-ones image against the batch's sum of dy.
  gemm(be, false, false, 1, out_floats, n, 1.0f, ones_n_.data(), dy, 0.0f, dy_sum_.data());
  fill(be, s_.data(), static_cast<int64_t>(s_.size()), 0.0f);
  ones_conv_.weight_grads(be, p, ones_image_.data(), dy_sum_.data(), 1, height, width, s_.data(), nullptr);
  affine_conv_grads(be, p.value(conv.w), g_.data(), s_.data(), p.value(bn.gamma), p.value(bn.beta), conv.out, conv.in,
                    taps, p.grad(conv.w), p.grad(bn.gamma), p.grad(bn.beta));
}
