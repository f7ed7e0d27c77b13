#include "engine/ops/bias_act.h"

#include <algorithm>
#include <cmath>

#include "engine/cpu/thread_pool.h"
#include "engine/cpu/vec16.h"

namespace cpu {

namespace {

// Elements per part below which a pass stays on one thread.
constexpr int64_t kMinPart = 16 * 1024;

template <Act A>
inline float activate(float x) {
  if constexpr (A == Act::ReLU) return x > 0.0f ? x : 0.0f;
  if constexpr (A == Act::Sigmoid) return 1.0f / (1.0f + std::exp(-x));
  if constexpr (A == Act::Tanh) return std::tanh(x);
  return x;
}

// Derivative expressed through the output y, so the pre-activation need not be kept.
template <Act A>
inline float activate_grad(float y) {
  if constexpr (A == Act::ReLU) return y > 0.0f ? 1.0f : 0.0f;
  if constexpr (A == Act::Sigmoid) return y * (1.0f - y);
  if constexpr (A == Act::Tanh) return 1.0f - y * y;
  return 1.0f;
}

// The activation is a template parameter so each inner loop is branch-free and vectorises.
template <Act A>
AMNESIA_SIMD_CLONES void fwd_rows(float* y, const float* bias, int64_t r0, int64_t r1, int cols) {
  for (int64_t r = r0; r < r1; ++r) {
    float* row = y + r * cols;
    if (bias)
      for (int c = 0; c < cols; ++c) row[c] = activate<A>(row[c] + bias[c]);
    else
      for (int c = 0; c < cols; ++c) row[c] = activate<A>(row[c]);
  }
}

// Columns [c0, c1) of every row, rows in order: each dbias[c] sums in the serial order, so splitting the
// columns over threads leaves the result unchanged.
template <Act A>
AMNESIA_SIMD_CLONES void bwd_cols(float* dy, const float* y, float* dbias, int rows, int cols, int64_t c0, int64_t c1) {
  for (int r = 0; r < rows; ++r) {
    float* drow = dy + static_cast<int64_t>(r) * cols;
    const float* yrow = y + static_cast<int64_t>(r) * cols;
    for (int64_t c = c0; c < c1; ++c) drow[c] *= activate_grad<A>(yrow[c]);
    if (dbias)
      for (int64_t c = c0; c < c1; ++c) dbias[c] += drow[c];
  }
}

template <Act A>
void fwd(float* y, const float* bias, int rows, int cols) {
  parallel_range(rows, kMinPart / std::max(cols, 1),
                 [&](int64_t r0, int64_t r1) { fwd_rows<A>(y, bias, r0, r1, cols); });
}

template <Act A>
void bwd(float* dy, const float* y, float* dbias, int rows, int cols) {
  if (dbias) {
    parallel_range(cols, kMinPart / std::max(rows, 1),
                   [&](int64_t c0, int64_t c1) { bwd_cols<A>(dy, y, dbias, rows, cols, c0, c1); });
    return;
  }
  // Without a bias every row is independent: one contiguous span of rows per part.
  parallel_range(rows, kMinPart / std::max(cols, 1), [&](int64_t r0, int64_t r1) {
    bwd_cols<A>(dy + r0 * cols, y + r0 * cols, nullptr, static_cast<int>(r1 - r0), cols, 0, cols);
  });
}

}  // namespace

void bias_act_fwd(float* y, const float* bias, int rows, int cols, Act act) {
  switch (act) {
    case Act::ReLU:
      return fwd<Act::ReLU>(y, bias, rows, cols);
    case Act::Sigmoid:
      return fwd<Act::Sigmoid>(y, bias, rows, cols);
    case Act::Tanh:
      return fwd<Act::Tanh>(y, bias, rows, cols);
    case Act::None:
      return fwd<Act::None>(y, bias, rows, cols);
  }
}

void bias_act_bwd(float* dy, const float* y, float* dbias, int rows, int cols, Act act) {
  switch (act) {
    case Act::ReLU:
      return bwd<Act::ReLU>(dy, y, dbias, rows, cols);
    case Act::Sigmoid:
      return bwd<Act::Sigmoid>(dy, y, dbias, rows, cols);
    case Act::Tanh:
      return bwd<Act::Tanh>(dy, y, dbias, rows, cols);
    case Act::None:
      return bwd<Act::None>(dy, y, dbias, rows, cols);
  }
}

}  // namespace cpu
