#include "engine/ops/sgd.h"

#include "engine/cpu/thread_pool.h"

namespace cpu {

void sgd_step(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  // Every element is independent: the pool splits them with the arithmetic unchanged.
  parallel_range(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      const float gi = g[i] + h.weight_decay * p[i];
      buf[i] = h.momentum * buf[i] + gi;
      p[i] -= h.lr * buf[i];
    }
  });
}

}  // namespace cpu
