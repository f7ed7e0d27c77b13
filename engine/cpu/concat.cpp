#include <cstring>

#include "engine/ops/concat.h"

namespace cpu {

void concat_cols(const float* a, int ca, const float* b, int cb, int rows, float* out) {
  for (int r = 0; r < rows; ++r) {
    float* o = out + static_cast<long>(r) * (ca + cb);
    std::memcpy(o, a + static_cast<long>(r) * ca, sizeof(float) * ca);
    std::memcpy(o + ca, b + static_cast<long>(r) * cb, sizeof(float) * cb);
  }
}

void slice_cols(const float* src, int csrc, int offset, int ncols, int rows, float* dst) {
  for (int r = 0; r < rows; ++r)
    std::memcpy(dst + static_cast<long>(r) * ncols, src + static_cast<long>(r) * csrc + offset, sizeof(float) * ncols);
}

void onehot(const int* labels, int rows, int nclass, float* out) {
  std::memset(out, 0, sizeof(float) * rows * nclass);
  for (int r = 0; r < rows; ++r)
    if (labels[r] >= 0 && labels[r] < nclass) out[static_cast<long>(r) * nclass + labels[r]] = 1.0f;
}

void gather_rows(const float* src, int cols, const int* idx, int rows, float* dst) {
  for (int r = 0; r < rows; ++r)
    std::memcpy(dst + static_cast<long>(r) * cols, src + static_cast<long>(idx[r]) * cols, sizeof(float) * cols);
}

}  // namespace cpu
