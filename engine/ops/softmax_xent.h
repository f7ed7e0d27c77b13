// Softmax cross-entropy from logits fused with its gradient, and plain row softmax (for audits).
// Rows are independent: logits is rows x classes, labels[r] the target class of row r.
#pragma once
#include "engine/backend.h"

namespace cpu {
void softmax_xent(const float* logits, const int* labels, int rows, int classes, float scale, float* dlogits,
                  float* loss_sum);
void softmax(const float* logits, int rows, int classes, float* probs);
}
namespace cuda {
void softmax_xent(const float* logits, const int* labels, int rows, int classes, float scale, float* dlogits,
                  float* loss_sum);
void softmax(const float* logits, int rows, int classes, float* probs);
}

// Adds scale * sum_r (logsumexp(logits[r]) - logits[r, labels[r]]) to *loss_sum (device scalar, may be
// null) and, when dlogits is not null, writes dlogits[r] = scale * (softmax(logits[r]) - onehot(labels[r])).
// A negative label marks a row to ignore: no loss, zero gradient. (A label >= classes throws on the
// CPU; the CUDA twin cannot throw and ignores the row too.) Use scale = 1/rows for PyTorch's mean
// cross_entropy.
inline void softmax_xent(const Backend& be, const float* logits, const int* labels, int rows, int classes,
                         float scale, float* dlogits, float* loss_sum) {
  AMNESIA_DISPATCH(be, softmax_xent, logits, labels, rows, classes, scale, dlogits, loss_sum);
}
// probs[r] = softmax(logits[r]) (max-shifted, so large logits do not overflow); probs may alias logits.
inline void softmax(const Backend& be, const float* logits, int rows, int classes, float* probs) {
  AMNESIA_DISPATCH(be, softmax, logits, rows, classes, probs);
}
