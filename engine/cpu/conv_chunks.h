// The CPU convolution, batch-split: the same im2col + GEMM math as engine/ops/conv2d.h, but a chunk of a
// few images at a time instead of the whole batch in one column matrix. A chunk's columns stay in the
// core's L2 cache between im2col, the GEMM and col2im (the whole-batch matrix of LNTL's first conv is
// 30 MB and went through memory three times), and the chunks spread over the thread pool, one task each
// (cpu::for_each_chunk, thread_pool.h). The chunks are fixed by the shapes; the weight and bias gradients
// sum into one partial per chunk, added in chunk order, so the result is the same at any thread count.
#pragma once
#include <cstdint>

#include "engine/ops/conv2d.h"

namespace cpu {

// Floats of scratch conv_chunks_forward / conv_chunks_backward need for g.
int64_t conv_chunks_workspace(const ConvGeom& g);
// y = conv(x, w) + b (b may be null), as conv2d_fwd.
void conv_chunks_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws);
// As conv2d_bwd: dw, db accumulate, dx is overwritten; each may be null (x is read only for dw).
void conv_chunks_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw,
                          float* db, float* ws);
// y[i, c, :] += b[c] for y n x c x hw; images split over the pool.
void add_channel_bias(float* y, const float* b, int n, int c, int hw);
// out[c] += sum over images and pixels of y[i, c, :], in kSlices fixed slices; ws: kSlices * c floats.
void channel_sums_add(const float* y, int n, int c, int hw, float* out, float* ws);

}  // namespace cpu
