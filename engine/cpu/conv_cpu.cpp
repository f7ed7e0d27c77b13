#include "engine/cpu/conv_cpu.h"

#include <algorithm>

#include "engine/cpu/conv_chunks.h"
#include "engine/cpu/conv_shifted.h"
#include "engine/cpu/conv_winograd.h"

namespace cpu {

namespace {

// The shifted-plane data gradient computes C_in rows per block of at least 4: with one or two input
// channels most of each block is padding, and im2col + col2im is faster (bench_conv: the judge's first
// convolution 0.77x, the MAE's first 0.49x on the shifted path; LNTL's first, 3 channels, 1.27x).
bool input_grad_on_shifted(const ConvGeom& g) { return g.c_in >= 3; }

}  // namespace

int64_t conv_workspace(const ConvGeom& g) {
  if (!shifted_conv_applies(g)) return conv_chunks_workspace(g);
  if (winograd_conv_applies(g)) return std::max(shifted_conv_workspace(g), winograd_conv_workspace(g));
  if (input_grad_on_shifted(g)) return shifted_conv_workspace(g);
  return std::max(shifted_conv_workspace(g), conv_chunks_workspace(g));
}

void conv_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws) {
  if (winograd_conv_applies(g))
    winograd_conv_forward(g, x, w, b, y, ws);
  else if (shifted_conv_applies(g))
    shifted_conv_forward(g, x, w, b, y, ws);
  else
    conv_chunks_forward(g, x, w, b, y, ws);
}

void conv_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                   float* ws) {
  if (!shifted_conv_applies(g)) return conv_chunks_backward(g, x, w, dy, dx, dw, db, ws);
  const bool winograd = winograd_conv_applies(g);
  if (!dx || (!winograd && input_grad_on_shifted(g))) return shifted_conv_backward(g, x, w, dy, dx, dw, db, ws);
  // The weight gradient on the shifted path, the data gradient on another.
  if (dw || db) shifted_conv_backward(g, x, w, dy, nullptr, dw, db, ws);
  if (winograd)
    winograd_conv_input_grad(g, w, dy, dx, ws);
  else
    conv_chunks_backward(g, x, w, dy, dx, nullptr, nullptr, ws);
}

}  // namespace cpu
