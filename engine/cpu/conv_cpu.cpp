#include "engine/cpu/conv_cpu.h"

#include "engine/cpu/conv_chunks.h"
#include "engine/cpu/conv_shifted.h"

namespace cpu {

int64_t conv_workspace(const ConvGeom& g) {
  return shifted_conv_applies(g) ? shifted_conv_workspace(g) : conv_chunks_workspace(g);
}

void conv_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws) {
  if (shifted_conv_applies(g))
    shifted_conv_forward(g, x, w, b, y, ws);
  else
    conv_chunks_forward(g, x, w, b, y, ws);
}

void conv_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
                   float* ws) {
  if (shifted_conv_applies(g))
    shifted_conv_backward(g, x, w, dy, dx, dw, db, ws);
  else
    conv_chunks_backward(g, x, w, dy, dx, dw, db, ws);
}

}  // namespace cpu
