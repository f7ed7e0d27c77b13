// Inverted dropout: kept values are scaled by 1/(1-p) at training time, so evaluation is the identity.
// The mask comes from the counter-based uniform generator (engine/ops/rng.h), so a run replays exactly.
// `group` consecutive values share one mask entry: 1 gives ordinary dropout, H*W on an NCHW tensor gives
// channel dropout (PyTorch's Dropout2d: a whole feature map is kept or dropped).
#pragma once
#include <cstdint>

#include "engine/backend.h"
#include "engine/ops/rng.h"

namespace cpu {
void dropout_fwd(const float* x, float* mask, int64_t n, int group, float p, float* y);
void dropout_bwd(const float* dy, const float* mask, int64_t n, int group, float* dx);
}
namespace cuda {
void dropout_fwd(const float* x, float* mask, int64_t n, int group, float p, float* y);
void dropout_bwd(const float* dy, const float* mask, int64_t n, int group, float* dx);
}

// Applies a mask drawn elsewhere: on entry mask[j] (j < n / group) holds a uniform in [0, 1); it is
// turned in place into the multiplier (u >= p ? 1/(1-p) : 0) and y[i] = x[i] * mask[i / group].
// n must be a multiple of group; 0 <= p < 1; y may alias x.
inline void dropout_apply(const Backend& be, const float* x, float* mask, int64_t n, int group, float p, float* y) {
  AMNESIA_DISPATCH(be, dropout_fwd, x, mask, n, group, p, y);
}
// Training forward: draws n / group uniforms into mask, then dropout_apply. mask keeps the multipliers
// for the backward.
inline void dropout_fwd(Backend& be, const float* x, float* mask, int64_t n, int group, float p, float* y) {
  fill_uniform(be, mask, n / group);
  dropout_apply(be, x, mask, n, group, p, y);
}
// dx[i] = dy[i] * mask[i / group]; dx may alias dy.
inline void dropout_bwd(const Backend& be, const float* dy, const float* mask, int64_t n, int group, float* dx) {
  AMNESIA_DISPATCH(be, dropout_bwd, dy, mask, n, group, dx);
}
