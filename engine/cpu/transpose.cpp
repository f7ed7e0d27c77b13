#include "engine/ops/transpose.h"

namespace cpu {

void batched_transpose(const float* src, int batch, int rows, int cols, float* dst) {
  const int64_t plane = static_cast<int64_t>(rows) * cols;
  for (int64_t b = 0; b < batch; ++b) {
    const float* s = src + b * plane;
    float* d = dst + b * plane;
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) d[static_cast<int64_t>(j) * rows + i] = s[static_cast<int64_t>(i) * cols + j];
  }
}

}  // namespace cpu
