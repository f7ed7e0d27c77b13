// CPU reference of inverted dropout (see engine/ops/dropout.h).
#include "engine/ops/dropout.h"

namespace cpu {

void dropout_fwd(const float* x, float* mask, int64_t n, int group, float p, float* y) {
  const float keep_scale = 1.0f / (1.0f - p);
  for (int64_t j = 0; j < n / group; ++j) {
    const float m = mask[j] >= p ? keep_scale : 0.0f;
    mask[j] = m;
    for (int64_t i = j * group; i < (j + 1) * group; ++i) y[i] = x[i] * m;
  }
}

void dropout_bwd(const float* dy, const float* mask, int64_t n, int group, float* dx) {
  for (int64_t j = 0; j < n / group; ++j)
    for (int64_t i = j * group; i < (j + 1) * group; ++i) dx[i] = dy[i] * mask[j];
}

}  // namespace cpu
