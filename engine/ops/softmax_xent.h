// Softmax cross-entropy from logits fused with its gradient, and plain row softmax (for audits).
// Rows are independent: logits is rows x classes, labels[r] the target class of row r.
#pragma once
#include "engine/backend.h"

// Adds scale * sum_r (logsumexp(logits[r]) - logits[r, labels[r]]) to *loss_sum (device scalar, may be
// null) and, when dlogits is not null, writes dlogits[r] = scale * (softmax(logits[r]) - onehot(labels[r])).
// A label outside [0, classes) marks a row to ignore, on both devices: no loss, zero gradient. Negative
// labels are how callers ask for that (masked pixels); the labels live on the device, where a kernel
// cannot throw, so a label >= classes cannot be an error here (the loaders reject such data earlier).
// Use scale = 1/rows for PyTorch's mean cross_entropy.
AMNESIA_OP(softmax_xent, const float* logits, const int* labels, int rows, int classes, float scale, float* dlogits,
           float* loss_sum)
// probs[r] = softmax(logits[r]) (max-shifted, so large logits do not overflow); probs may alias logits.
AMNESIA_OP(softmax, const float* logits, int rows, int classes, float* probs)
