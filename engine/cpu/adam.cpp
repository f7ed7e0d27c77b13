#include "engine/ops/adam.h"

#include <cmath>

#include "engine/cpu/thread_pool.h"

namespace cpu {

void adam_step(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h, int step) {
  const float bc1 = 1.0f - std::pow(h.beta1, static_cast<float>(step));
  const float bc2 = 1.0f - std::pow(h.beta2, static_cast<float>(step));
  // Every element is independent: the pool splits them with the arithmetic unchanged.
  parallel_range(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) {
      float gi = g[i] + h.weight_decay * p[i];
      m[i] = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
      v[i] = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
      p[i] -= h.lr * (m[i] / bc1) / (std::sqrt(v[i] / bc2) + h.eps);
    }
  });
}

}  // namespace cpu
