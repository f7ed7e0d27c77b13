// Diagonal Fisher of a Linear layer from per-sample gradients, batched without a batch-1 loop:
// the per-sample weight gradient is delta_n a_n^T, so sum_n (delta_n a_n^T)^2 = (delta o delta)^T (a o a).
#pragma once
#include "engine/backend.h"

#define FISHER_ARGS const float* delta, const float* a, int rows, int out, int in, float scale, float* fisher_w, float* fisher_b
namespace cpu { void fisher_accumulate(FISHER_ARGS); }
namespace cuda { void fisher_accumulate(FISHER_ARGS); }
#undef FISHER_ARGS

// delta: rows x out (per-sample dLoss/dy), a: rows x in (layer input);
// fisher_w[o,i] += scale * sum_n delta[n,o]^2 a[n,i]^2 and fisher_b[o] += scale * sum_n delta[n,o]^2.
inline void fisher_accumulate(const Backend& be, const float* delta, const float* a, int rows, int out, int in, float scale,
                              float* fisher_w, float* fisher_b) {
  AMNESIA_DISPATCH(be, fisher_accumulate, delta, a, rows, out, in, scale, fisher_w, fisher_b);
}
