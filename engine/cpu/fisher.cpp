#include <vector>

#include "engine/ops/fisher.h"
#include "engine/ops/gemm.h"

namespace cpu {

void fisher_accumulate(const float* delta, const float* a, int rows, int out, int in, float scale, float* fisher_w,
                       float* fisher_b) {
  std::vector<float> d2(static_cast<size_t>(rows) * out), a2(static_cast<size_t>(rows) * in);
  for (size_t i = 0; i < d2.size(); ++i) d2[i] = delta[i] * delta[i];
  for (size_t i = 0; i < a2.size(); ++i) a2[i] = a[i] * a[i];
  gemm(true, false, out, in, rows, scale, d2.data(), a2.data(), 1.0f, fisher_w);
  if (!fisher_b) return;
  for (int n = 0; n < rows; ++n)
    for (int o = 0; o < out; ++o) fisher_b[o] += scale * d2[static_cast<size_t>(n) * out + o];
}

}  // namespace cpu
