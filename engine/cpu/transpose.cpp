#include "engine/ops/transpose.h"

#include "engine/cpu/thread_pool.h"

namespace cpu {

void batched_transpose(const float* src, int batch, int rows, int cols, float* dst) {
  const int64_t plane = static_cast<int64_t>(rows) * cols;
  // Each matrix is written by one part of the split: the same values at any thread count.
  parallel_range(batch, 4, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      const float* s = src + b * plane;
      float* d = dst + b * plane;
      for (int i = 0; i < rows; ++i)
        for (int j = 0; j < cols; ++j) d[static_cast<int64_t>(j) * rows + i] = s[static_cast<int64_t>(i) * cols + j];
    }
  });
}

}  // namespace cpu
