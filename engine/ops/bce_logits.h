// Binary cross-entropy from logits, summed, fused with its gradient (numerically stable form).
#pragma once
#include <cstdint>
#include "engine/backend.h"

// Adds scale * sum_i BCE(sigmoid(l_i), t_i) to *loss_sum (device scalar, may be null) and, when dlogits
// is not null, writes dlogits_i = scale * (sigmoid(l_i) - t_i).
AMNESIA_OP(bce_logits, const float* logits, const float* target, int64_t n, float scale, float* dlogits,
           float* loss_sum)
