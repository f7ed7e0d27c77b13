// 2-D transposed convolution on NCHW tensors (PyTorch's ConvTranspose2d), composed entirely from the
// convolution primitives of engine/ops/conv2d.h, so it needs no kernel of its own on either device.
//
// A transposed convolution is the adjoint of a convolution. Call "mirror" the ordinary convolution that
// maps an OH x OW map with C_out channels back to the H x W input with C_in channels, sharing the weight
// W [C_in, C_out, k, k] (PyTorch's ConvTranspose2d layout is exactly that convolution's [out, in, k, k]).
// With A_W the mirror's linear map,
//   forward:      y  = A_W^T x            = the mirror's data gradient with x in the place of dy
//   data grad:    dx = A_W dy             = the mirror's forward applied to dy
//   weight grad:  dW = d<A_W dy, x>/dW    = the mirror's weight gradient with input dy and output gradient x
//   bias grad:    db[c] = sum over n, pixels of dy[n, c]
// The bias is added with the two layout permutes (NCHW -> channel-major and back, the second one adding
// the bias), which is a pass over the output next to the GEMMs.
#pragma once
#include <cstdint>
#include <stdexcept>

#include "engine/ops/conv2d.h"

// Shape of one transposed-convolution call: input N x C_in x H x W, square kernel k, stride, zero padding
// pad and extra rows/columns out_pad on the far side (PyTorch's output_padding, < stride) -> output
// N x C_out x OH x OW.
struct ConvTransposeGeom {
  int n = 0, c_in = 0, h = 0, w = 0;
  int c_out = 0, k = 1, stride = 1, pad = 0, out_pad = 0;

  int oh() const { return (h - 1) * stride - 2 * pad + k + out_pad; }
  int ow() const { return (w - 1) * stride - 2 * pad + k + out_pad; }
  // The convolution this one is the adjoint of: C_out x OH x OW -> C_in x H x W (out_pad < stride makes
  // its output exactly H x W).
  ConvGeom mirror() const { return ConvGeom{n, c_out, oh(), ow(), c_in, k, stride, pad}; }
  int64_t out_floats() const { return static_cast<int64_t>(n) * c_out * oh() * ow(); }
  // The mirror's scratch plus one channel-major copy of the output (for the bias and its gradient).
  int64_t workspace_floats() const { return mirror().workspace_floats() + out_floats(); }
};

namespace conv_detail {
inline void check_transpose_geom(const ConvTransposeGeom& g) {
  if (g.out_pad < 0 || g.out_pad >= g.stride || g.pad < 0 || g.oh() < 1 || g.ow() < 1)
    throw std::invalid_argument("conv_transpose2d: needs 0 <= out_pad < stride, pad >= 0 and a non-empty output");
}
// y [N, C, HW] += b[c] per channel, through a channel-major copy in tmp (N*C*HW floats).
inline void add_channel_bias(const Backend& be, float* y, const float* b, int n, int c, int hw, float* tmp) {
  nchw_to_cnhw(be, y, n, c, hw, tmp);
  cnhw_to_nchw(be, tmp, b, n, c, hw, y);
}
}  // namespace conv_detail

// y [N, C_out, OH, OW] = conv_transpose(x, w) + b. w is [C_in, C_out, k, k] (PyTorch layout), b [C_out] or
// null. ws: g.workspace_floats() floats of scratch on the device.
inline void conv_transpose2d_fwd(const Backend& be, const ConvTransposeGeom& g, const float* x, const float* w,
                                 const float* b, float* y, float* ws) {
  conv_detail::check_transpose_geom(g);
  const ConvGeom m = g.mirror();
  conv2d_bwd(be, m, nullptr, w, x, y, nullptr, nullptr, ws);  // no weight gradient: the mirror's input is not read
  if (b) conv_detail::add_channel_bias(be, y, b, g.n, g.c_out, g.oh() * g.ow(), ws + m.workspace_floats());
}

// Backward of conv_transpose2d_fwd for dy [N, C_out, OH, OW]; each output is optional (null = not wanted):
//   dw [C_in, C_out, k, k] += dL/dw,  db [C_out] += dL/db  (accumulated),
//   dx [N, C_in, H, W]      = dL/dx   (overwritten).
// x (the forward input) is only read when dw is wanted. ws: g.workspace_floats() floats.
inline void conv_transpose2d_bwd(const Backend& be, const ConvTransposeGeom& g, const float* x, const float* w,
                                 const float* dy, float* dx, float* dw, float* db, float* ws) {
  conv_detail::check_transpose_geom(g);
  const ConvGeom m = g.mirror();
  if (dx) conv2d_fwd(be, m, dy, w, nullptr, dx, ws);
  if (dw) conv2d_bwd(be, m, dy, w, x, nullptr, dw, nullptr, ws);
  if (db) {
    float* channel_major = ws + m.workspace_floats();
    nchw_to_cnhw(be, dy, g.n, g.c_out, g.oh() * g.ow(), channel_major);
    row_sums_add(be, channel_major, g.c_out, static_cast<int64_t>(g.n) * g.oh() * g.ow(), db);
  }
}
