#include <cmath>

#include "engine/ops/bias_act.h"

namespace cpu {

static inline float activate(float x, Act act) {
  switch (act) {
    case Act::ReLU: return x > 0.0f ? x : 0.0f;
    case Act::Sigmoid: return 1.0f / (1.0f + std::exp(-x));
    case Act::Tanh: return std::tanh(x);
    case Act::None: break;
  }
  return x;
}

// Derivative expressed through the output y, so the pre-activation need not be kept.
static inline float activate_grad(float y, Act act) {
  switch (act) {
    case Act::ReLU: return y > 0.0f ? 1.0f : 0.0f;
    case Act::Sigmoid: return y * (1.0f - y);
    case Act::Tanh: return 1.0f - y * y;
    case Act::None: break;
  }
  return 1.0f;
}

void bias_act_fwd(float* y, const float* bias, int rows, int cols, Act act) {
  for (int r = 0; r < rows; ++r) {
    float* row = y + static_cast<long>(r) * cols;
    for (int c = 0; c < cols; ++c) row[c] = activate(row[c] + (bias ? bias[c] : 0.0f), act);
  }
}

void bias_act_bwd(float* dy, const float* y, float* dbias, int rows, int cols, Act act) {
  for (int r = 0; r < rows; ++r) {
    float* drow = dy + static_cast<long>(r) * cols;
    const float* yrow = y + static_cast<long>(r) * cols;
    for (int c = 0; c < cols; ++c) {
      drow[c] *= activate_grad(yrow[c], act);
      if (dbias) dbias[c] += drow[c];
    }
  }
}

}  // namespace cpu
