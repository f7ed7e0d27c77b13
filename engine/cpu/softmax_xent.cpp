// CPU reference of softmax and softmax cross-entropy (see engine/ops/softmax_xent.h).
#include <cmath>
#include <cstdint>

#include "engine/ops/softmax_xent.h"

namespace cpu {

namespace {
// Max of the row, then sum of exp(l - max): the log of the sum plus max is logsumexp without overflow.
inline void row_stats(const float* l, int classes, float& mx, float& sum) {
  mx = l[0];
  for (int j = 1; j < classes; ++j) mx = std::fmax(mx, l[j]);
  sum = 0.0f;
  for (int j = 0; j < classes; ++j) sum += std::exp(l[j] - mx);
}
}  // namespace

void softmax_xent(const float* logits, const int* labels, int rows, int classes, float scale, float* dlogits,
                  float* loss_sum) {
  double loss = 0.0;
  for (int r = 0; r < rows; ++r) {
    const float* l = logits + static_cast<int64_t>(r) * classes;
    float* d = dlogits ? dlogits + static_cast<int64_t>(r) * classes : nullptr;
    const int label = labels[r];
    if (label < 0 || label >= classes) {
      if (d)
        for (int j = 0; j < classes; ++j) d[j] = 0.0f;
      continue;
    }
    float mx, sum;
    row_stats(l, classes, mx, sum);
    loss += std::log(sum) + mx - l[label];
    if (d) {
      const float inv = 1.0f / sum;
      for (int j = 0; j < classes; ++j) d[j] = scale * (std::exp(l[j] - mx) * inv - (j == label ? 1.0f : 0.0f));
    }
  }
  if (loss_sum) *loss_sum += static_cast<float>(scale * loss);
}

void softmax(const float* logits, int rows, int classes, float* probs) {
  for (int r = 0; r < rows; ++r) {
    const float* l = logits + static_cast<int64_t>(r) * classes;
    float* p = probs + static_cast<int64_t>(r) * classes;
    float mx, sum;
    row_stats(l, classes, mx, sum);
    const float inv = 1.0f / sum;
    for (int j = 0; j < classes; ++j) p[j] = std::exp(l[j] - mx) * inv;
  }
}

}  // namespace cpu
