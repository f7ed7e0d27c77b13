// CPU reference of the softmax negative entropy (see engine/ops/softmax_entropy.h).
#include <cmath>
#include <cstdint>
#include <vector>

#include "engine/ops/softmax_entropy.h"

namespace cpu {

void softmax_neg_entropy(const float* logits, int rows, int classes, float scale, float* dlogits, float* loss_sum) {
  // Each p_j = exp(l_j - log z) is computed once per row and kept for the gradient (per thread, grown once).
  thread_local std::vector<float> p_store;
  if (p_store.size() < static_cast<size_t>(classes)) p_store.resize(static_cast<size_t>(classes));
  float* p = p_store.data();
  double total = 0.0;
  for (int r = 0; r < rows; ++r) {
    const float* l = logits + static_cast<int64_t>(r) * classes;
    float mx = l[0];
    for (int j = 1; j < classes; ++j) mx = std::fmax(mx, l[j]);
    float sum = 0.0f;
    for (int j = 0; j < classes; ++j) sum += std::exp(l[j] - mx);
    // log p_j = l_j - mx - log(sum): exact even where p_j underflows to 0 (then p log p -> 0).
    const float log_z = mx + std::log(sum);
    float neg_ent = 0.0f;
    for (int j = 0; j < classes; ++j) {
      p[j] = std::exp(l[j] - log_z);
      neg_ent += p[j] * (l[j] - log_z);
    }
    total += neg_ent;
    if (!dlogits) continue;
    float* d = dlogits + static_cast<int64_t>(r) * classes;
    for (int j = 0; j < classes; ++j) d[j] = scale * p[j] * (l[j] - log_z - neg_ent);
  }
  if (loss_sum) *loss_sum += static_cast<float>(scale * total);
}

}  // namespace cpu
