#include "engine/ops/sgd.h"

namespace cpu {

void sgd_step(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] + h.weight_decay * p[i];
    buf[i] = h.momentum * buf[i] + gi;
    p[i] -= h.lr * buf[i];
  }
}

}  // namespace cpu
