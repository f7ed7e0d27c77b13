// 2-D max and average pooling on NCHW tensors (square window k, stride s, padding pad, floor mode,
// as PyTorch's MaxPool2d / AvgPool2d defaults).
#pragma once
#include "engine/backend.h"

struct PoolGeom {
  int n = 0, c = 0, h = 0, w = 0;
  int k = 2, stride = 2, pad = 0;  // PyTorch requires pad <= k / 2, so every window holds a real pixel

  int oh() const { return (h + 2 * pad - k) / stride + 1; }
  int ow() const { return (w + 2 * pad - k) / stride + 1; }
};

// y [N, C, OH, OW] = max over each window (padding counts as -inf). When argmax is not null it receives,
// per output, the winner's index inside its input plane (iy * W + ix); ties go to the first in row-major
// window order. Eval passes may leave argmax null.
AMNESIA_OP(maxpool_fwd, const float* x, PoolGeom g, float* y, int* argmax)
// dx [N, C, H, W] = dy routed to each window's winner (summed where overlapping windows share one);
// overwritten, not accumulated.
AMNESIA_OP(maxpool_bwd, const float* dy, const int* argmax, PoolGeom g, float* dx)
// y = window mean with the padding counted as zeros (divisor always k*k: count_include_pad=True).
AMNESIA_OP(avgpool_fwd, const float* x, PoolGeom g, float* y)
// dx = sum over the windows containing each pixel of dy / (k*k); overwritten.
AMNESIA_OP(avgpool_bwd, const float* dy, PoolGeom g, float* dx)
