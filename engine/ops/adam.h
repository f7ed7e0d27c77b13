// Adam over the whole flat parameter buffer in one pass (PyTorch's formulation, L2 weight decay).
#pragma once
#include <cstdint>
#include "engine/backend.h"

struct AdamHyper {
  float lr = 1e-4f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
};

// step counts from 1 (bias correction).
AMNESIA_OP(adam_step, float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h, int step)
