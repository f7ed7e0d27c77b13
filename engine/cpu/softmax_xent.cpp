// CPU reference of softmax and softmax cross-entropy (see engine/ops/softmax_xent.h).
#include "engine/ops/softmax_xent.h"

#include "engine/cpu/softmax_rows.h"

namespace cpu {

// Cross-entropy of each lane's row: log z - l[label]; the gradient scale * (p - onehot(label)).
void softmax_xent(const float* logits, const int* labels, int rows, int classes, float scale, float* dlogits,
                  float* loss_sum) {
  const double loss = for_each_row_block(rows, classes, [&](const RowBlock& b, f32x16*) AMNESIA_VEC_INLINE_LAMBDA {
    load_rows(logits, classes, b.first, b.rows, b.v);
    const f32x16 log_z = softmax_lanes(b.v, classes, nullptr);
    double block_loss = 0.0;
    for (int i = 0; i < b.rows; ++i) {
      const int r = b.first + i, label = labels[r];
      const bool ignored = label < 0 || label >= classes;
      if (!ignored) block_loss += log_z[i] - logits[static_cast<int64_t>(r) * classes + label];
      if (!dlogits) continue;
      for (int j = 0; j < classes; ++j) {
        const float p = b.v[j][i];
        b.v[j][i] = ignored ? 0.0f : scale * (p - (j == label ? 1.0f : 0.0f));
      }
    }
    if (dlogits) store_rows(b.v, classes, b.first, b.rows, dlogits);
    return block_loss;
  });
  if (loss_sum) *loss_sum += static_cast<float>(scale * loss);
}

void softmax(const float* logits, int rows, int classes, float* probs) {
  for_each_row_block(rows, classes, [&](const RowBlock& b, f32x16*) AMNESIA_VEC_INLINE_LAMBDA {
    load_rows(logits, classes, b.first, b.rows, b.v);  // the whole block is read before any is written
    softmax_lanes(b.v, classes, nullptr);
    store_rows(b.v, classes, b.first, b.rows, probs);
    return 0.0;
  });
}

}  // namespace cpu
