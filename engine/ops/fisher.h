// Diagonal Fisher of a Linear layer from per-sample gradients, batched without a batch-1 loop:
// the per-sample weight gradient is delta_n a_n^T, so sum_n (delta_n a_n^T)^2 = (delta o delta)^T (a o a).
#pragma once
#include <stdexcept>
#include "engine/backend.h"

AMNESIA_TWINS(fisher_accumulate, const float* delta, const float* a, int rows, int out, int in, float scale,
              float* fisher_w, float* fisher_b)

// delta: rows x out (per-sample dLoss/dy), a: rows x in (layer input);
// fisher_w[o,i] += scale * sum_n delta[n,o]^2 a[n,i]^2 and fisher_b[o] += scale * sum_n delta[n,o]^2.
// fisher_b may be null (a layer without bias) on both devices; the rest are required, and a null one
// throws here, before a device could fault on it.
inline void fisher_accumulate(const Backend& be, const float* delta, const float* a, int rows, int out, int in,
                              float scale, float* fisher_w, float* fisher_b) {
  if (rows > 0 && out > 0 && (!delta || !fisher_w || (in > 0 && !a)))
    throw std::invalid_argument("fisher_accumulate: delta, a and fisher_w must not be null");
  AMNESIA_DISPATCH(be, fisher_accumulate, delta, a, rows, out, in, scale, fisher_w, fisher_b);
}
