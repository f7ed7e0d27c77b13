// CPU reference of the softmax negative entropy (see engine/ops/softmax_entropy.h).
#include "engine/ops/softmax_entropy.h"

#include "engine/cpu/softmax_rows.h"

namespace cpu {

void softmax_neg_entropy(const float* logits, int rows, int classes, float scale, float* dlogits, float* loss_sum) {
  const double total = for_each_row_block(rows, classes, [&](const RowBlock& b, f32x16* log_p) AMNESIA_VEC_INLINE_LAMBDA {
    load_rows(logits, classes, b.first, b.rows, b.v);
    // log p_j = l_j - log z: exact even where p_j underflows to 0 (then p log p -> 0).
    softmax_lanes(b.v, classes, log_p);
    f32x16 neg_ent = {};
    for (int j = 0; j < classes; ++j) neg_ent += b.v[j] * log_p[j];
    double block_total = 0.0;
    for (int i = 0; i < b.rows; ++i) block_total += neg_ent[i];
    if (dlogits) {
      for (int j = 0; j < classes; ++j) b.v[j] = scale * b.v[j] * (log_p[j] - neg_ent);
      store_rows(b.v, classes, b.first, b.rows, dlogits);
    }
    return block_total;
  });
  if (loss_sum) *loss_sum += static_cast<float>(scale * total);
}

}  // namespace cpu
