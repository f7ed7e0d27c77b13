#include "engine/ops/bce_logits.h"

#include "engine/cpu/vec16.h"

namespace cpu {

namespace {

struct BceTerms {
  f32x16 loss, dlogit;  // per element: BCE(sigmoid(l), t) and sigmoid(l) - t
};

// With e = e^-|l|: max(l,0) - l t + log(1 + e) never overflows and equals -t log s - (1-t) log(1-s),
// and sigmoid(l) is 1 / (1 + e) for l >= 0, e / (1 + e) below: one exponential serves both.
AMNESIA_VEC_INLINE BceTerms bce_terms(const f32x16& l, const f32x16& t) {
  const f32x16 zero = {};
  const f32x16 e = exp16(l < zero ? l : -l);
  const f32x16 loss = (l > zero ? l : zero) - l * t + log1p16(e);
  const f32x16 sigmoid = (l >= zero ? splat16(1.0f) : e) / (1.0f + e);
  return {loss, sigmoid - t};
}

}  // namespace

AMNESIA_SIMD_CLONES
void bce_logits(const float* logits, const float* target, int64_t n, float scale, float* dlogits, float* loss_sum) {
  // Sixteen float lanes summed in blocks, each block total added in double: the order is fixed by n.
  double loss = 0.0;
  const int64_t kBlock = 4096;
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t end = b + kBlock < n ? b + kBlock : n;
    f32x16 lanes = {};
    int64_t i = b;
    for (; i + 16 <= end; i += 16) {
      const BceTerms r = bce_terms(load16(logits + i), load16(target + i));
      lanes += r.loss;
      if (dlogits) store16(dlogits + i, scale * r.dlogit);
    }
    if (i < end) {
      const int rest = static_cast<int>(end - i);
      const BceTerms r = bce_terms(load_first(logits + i, rest), load_first(target + i, rest));
      for (int k = 0; k < rest; ++k) lanes[k] += r.loss[k];  // the zero padding's terms left out
      if (dlogits) store_first(dlogits + i, scale * r.dlogit, rest);
    }
    loss += lanes_total(lanes);
  }
  if (loss_sum) *loss_sum += static_cast<float>(scale * loss);
}

}  // namespace cpu
