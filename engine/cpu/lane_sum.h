// Float sums the compiler can vectorise: 8 interleaved accumulators. Without -ffast-math a single
// float accumulator may not be reordered, so the loop stays scalar; fixing the association ourselves
// lets it become one SIMD add per 8 values and keeps the result the same on every run.
#pragma once
#include <cstdint>

namespace cpu {

// sum over i in [0, n) of term(i).
template <typename Term>
inline float lane_sum(int64_t n, Term term) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; ++l) acc[l] += term(i + l);
  float tail = 0.0f;
  for (; i < n; ++i) tail += term(i);
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])) + tail;
}

inline float lane_sum(const float* x, int64_t n) {
  return lane_sum(n, [x](int64_t i) { return x[i]; });
}

}  // namespace cpu
