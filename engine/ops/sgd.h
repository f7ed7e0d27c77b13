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

namespace cpu { void sgd_step(float* p, const float* g, float* buf, int64_t n, SgdHyper h); }
namespace cuda { void sgd_step(float* p, const float* g, float* buf, int64_t n, SgdHyper h); }

// buf: n floats of momentum state, zeroed before the first step.
inline void sgd_step(const Backend& be, float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  AMNESIA_DISPATCH(be, sgd_step, p, g, buf, n, h);
}
