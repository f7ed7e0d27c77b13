// The parameter gradients of conv(batchnorm(x)) when x, a network's input, needs no gradient (LNTL's
// f: input batch norm, then a 5x5 convolution). Instead of the convolution's data gradient (as costly as
// its weight gradient, and wanted only for the batch norm's 2 x C parameters) it takes two weight
// gradients: G, of the convolution over xhat = (x - mean) * invstd, and S, of one over an all-ones
// image, whose batch sum of dy makes it one image's worth of work; affine_conv_grads
// (engine/ops/affine_conv_grads.h) turns them into dW, dgamma and dbeta. The same gradients as the
// chain through the data gradient, up to rounding.
#pragma once
#include "engine/batchnorm.h"
#include "engine/conv2d.h"

class InputBnConvGrads {
 public:
  // After bn.forward_train(x) fed conv.forward: accumulates conv's dW, db and bn's dgamma, dbeta into p's
  // gradients from dy, the gradient of conv's output. x: n x bn.c x height x width.
  void backward(const Backend& be, const ParamStore& p, const BatchNorm& bn, const Conv2d& conv, const float* x,
                const float* dy, int n, int height, int width);

 private:
  void reserve(const Backend& be, const BatchNorm& bn, const Conv2d& conv, int n, int height, int width);

  Conv2d xhat_conv_, ones_conv_;  // conv's geometry over xhat, and over one all-ones channel
  Buffer<float> xhat_, ones_n_, ones_image_, unit_affine_, batch_stats_, g_, s_, dy_sum_;
  int n_ = 0, height_ = 0, width_ = 0;  // the batch the buffers hold, and the image size
};
