// Inverted dropout: kept values are scaled by 1/(1-p) at training time, so evaluation is the identity.
// The mask comes from the counter-based uniform generator (engine/ops/rng.h), so a run replays exactly.
// `group` consecutive values share one mask entry: 1 gives ordinary dropout, H*W on an NCHW tensor gives
// channel dropout (PyTorch's Dropout2d: a whole feature map is kept or dropped).
#pragma once
#include <cstdint>

#include "engine/backend.h"
#include "engine/ops/rng.h"

// Applies a mask drawn elsewhere: on entry mask[j] (j < n / group) holds a uniform in [0, 1); it is
// turned in place into the multiplier (u >= p ? 1/(1-p) : 0) and y[i] = x[i] * mask[i / group].
// n must be a multiple of group; 0 <= p < 1; y may alias x. (The twins are cpu/cuda::dropout_fwd.)
AMNESIA_OP_AS(dropout_apply, dropout_fwd, const float* x, float* mask, int64_t n, int group, float p, float* y)
// dx[i] = dy[i] * mask[i / group]; dx may alias dy.
AMNESIA_OP(dropout_bwd, const float* dy, const float* mask, int64_t n, int group, float* dx)

// Training forward: draws n / group uniforms into mask, then dropout_apply. mask keeps the multipliers
// for the backward.
inline void dropout_fwd(Backend& be, const float* x, float* mask, int64_t n, int group, float p, float* y) {
  fill_uniform(be, mask, n / group);
  dropout_apply(be, x, mask, n, group, p, y);
}
