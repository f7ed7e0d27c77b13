// CPU reference of softmax and softmax cross-entropy (see engine/ops/softmax_xent.h).
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/ops/softmax_xent.h"

namespace cpu {

namespace {
// Max of the row, then e_j = exp(l_j - max) and their sum: log(sum) + max is logsumexp without overflow.
inline void row_exps(const float* l, int classes, float* e, float& mx, float& sum) {
  mx = l[0];
  for (int j = 1; j < classes; ++j) mx = std::fmax(mx, l[j]);
  sum = 0.0f;
  for (int j = 0; j < classes; ++j) {
    e[j] = std::exp(l[j] - mx);
    sum += e[j];
  }
}
// Per thread, grown once: a row's exponentials, computed once and kept for the probabilities.
float* row_buffer(int classes) {
  thread_local std::vector<float> store;
  if (store.size() < static_cast<size_t>(classes)) store.resize(static_cast<size_t>(classes));
  return store.data();
}
}  // namespace

void softmax_xent(const float* logits, const int* labels, int rows, int classes, float scale, float* dlogits,
                  float* loss_sum) {
  float* e = row_buffer(classes);
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
    row_exps(l, classes, e, mx, sum);
    loss += std::log(sum) + mx - l[label];
    if (d) {
      const float inv = 1.0f / sum;
      for (int j = 0; j < classes; ++j) d[j] = scale * (e[j] * inv - (j == label ? 1.0f : 0.0f));
    }
  }
  if (loss_sum) *loss_sum += static_cast<float>(scale * loss);
}

void softmax(const float* logits, int rows, int classes, float* probs) {
  float* e = row_buffer(classes);
  for (int r = 0; r < rows; ++r) {
    const float* l = logits + static_cast<int64_t>(r) * classes;
    float* p = probs + static_cast<int64_t>(r) * classes;
    float mx, sum;
    row_exps(l, classes, e, mx, sum);
    const float inv = 1.0f / sum;
    for (int j = 0; j < classes; ++j) p[j] = e[j] * inv;
  }
}

}  // namespace cpu
