// Negative entropy of a softmax, sum_j p_j log p_j with p = softmax(logits row), fused with its gradient.
// Learning Not to Learn minimises it (i.e. maximises the colour head's uncertainty) to make the features
// useless for predicting the colour. Rows are independent: logits is rows x classes.
//   d/dl_k sum_j p_j log p_j = p_k (log p_k - sum_j p_j log p_j).
#pragma once
#include "engine/backend.h"

// Adds scale * sum_r sum_j p_rj log p_rj to *loss_sum (device scalar, may be null) and, when dlogits is
// not null, writes dlogits = scale * its gradient. scale = 1/rows gives the mean over rows.
AMNESIA_OP(softmax_neg_entropy, const float* logits, int rows, int classes, float scale, float* dlogits,
           float* loss_sum)
