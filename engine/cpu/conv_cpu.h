// Which CPU convolution runs: the shifted-plane kernels (conv_shifted.h) on CPUs with AVX-512 (strides
// 1 to 3, kernels up to 7 x 7), except the data gradient of a convolution with one or two input
// channels; the batch-split im2col + BLAS chunks (conv_chunks.h) for everything else. The
// layers (Conv2d, ConvTranspose2d) call these; the tests call each path directly as well.
#pragma once
#include <cstdint>

#include "engine/ops/conv2d.h"

namespace cpu {

// Floats of scratch conv_forward / conv_backward need for g at the pool's current thread count (part
// of it is per thread: ask again after set_threads).
int64_t conv_workspace(const ConvGeom& g);
// y = conv(x, w) + b (b may be null), as conv2d_fwd.
void conv_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws);
// As conv2d_bwd: dw, db accumulate, dx is overwritten; each may be null (x is read only for dw).
void conv_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                   float* ws);

}  // namespace cpu
