// Bias + activation after a GEMM, fused in one pass, and its backward.
#pragma once
#include "engine/backend.h"

enum class Act { None, ReLU, Sigmoid, Tanh };

// y[r,c] = act(y[r,c] + bias[c]) in place; bias may be null.
AMNESIA_OP(bias_act_fwd, float* y, const float* bias, int rows, int cols, Act act)
// dy <- dy * act'(.) in place, written in terms of the forward output y;
// dbias[c] += sum_r dy[r,c] (after the activation's derivative) when dbias is not null.
AMNESIA_OP(bias_act_bwd, float* dy, const float* y, float* dbias, int rows, int cols, Act act)
