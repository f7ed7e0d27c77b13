#include "engine/ops/adam.h"

#include <cmath>

#include "engine/cpu/thread_pool.h"
#include "engine/cpu/vec16.h"

namespace cpu {

namespace {

// One chunk of the update. The hyperparameters come by value and the buffers as restrict pointers:
// otherwise every store to p, m or v might change h.lr & co, which then have to be reloaded each
// element and the loop cannot vectorise. Elementwise with IEEE sqrt and division: the same bits as
// the scalar loop in either clone.
AMNESIA_SIMD_CLONES
void adam_chunk(float* __restrict p, const float* __restrict g, float* __restrict m, float* __restrict v, int64_t n,
                AdamHyper h, float bc1, float bc2) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] + h.weight_decay * p[i];
    const float mi = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
    const float vi = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= h.lr * (mi / bc1) / (std::sqrt(vi / bc2) + h.eps);
  }
}

}  // namespace

void adam_step(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h, int step) {
  const float bc1 = 1.0f - std::pow(h.beta1, static_cast<float>(step));
  const float bc2 = 1.0f - std::pow(h.beta2, static_cast<float>(step));
  // Every element is independent: the pool splits them with the arithmetic unchanged.
  parallel_range(n, 1 << 15, [&](int64_t i0, int64_t i1) {
    adam_chunk(p + i0, g + i0, m + i0, v + i0, i1 - i0, h, bc1, bc2);
  });
}

}  // namespace cpu
