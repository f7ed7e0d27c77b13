// SGD with momentum and L2 weight decay over a whole flat parameter buffer in one pass, PyTorch's
// formulation (torch.optim.SGD, dampening 0, no Nesterov):
//   g = grad + weight_decay * p;   buf = momentum * buf + g;   p -= lr * buf.
// PyTorch seeds buf with the first g; a zero-initialised buf gives exactly that on the first step.
#pragma once
#include <cstdint>
#include "engine/backend.h"

struct SgdHyper {
  float lr = 0.01f, momentum = 0.9f, weight_decay = 5e-4f;
};

// buf: n floats of momentum state, zeroed before the first step.
AMNESIA_OP(sgd_step, float* p, const float* g, float* buf, int64_t n, SgdHyper h)
