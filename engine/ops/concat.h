// Column concatenation (label conditioning), its backward slice, one-hot labels, batch gather.
#pragma once
#include "engine/backend.h"

namespace cpu {
void concat_cols(const float* a, int ca, const float* b, int cb, int rows, float* out);
void slice_cols(const float* src, int csrc, int offset, int ncols, int rows, float* dst);
void onehot(const int* labels, int rows, int nclass, float* out);
void gather_rows(const float* src, int cols, const int* idx, int rows, float* dst);
}
namespace cuda {
void concat_cols(const float* a, int ca, const float* b, int cb, int rows, float* out);
void slice_cols(const float* src, int csrc, int offset, int ncols, int rows, float* dst);
void onehot(const int* labels, int rows, int nclass, float* out);
void gather_rows(const float* src, int cols, const int* idx, int rows, float* dst);
}

// out[r] = [a[r] | b[r]], out is rows x (ca + cb).
inline void concat_cols(const Backend& be, const float* a, int ca, const float* b, int cb, int rows, float* out) {
  AMNESIA_DISPATCH(be, concat_cols, a, ca, b, cb, rows, out);
}
// dst[r] = src[r, offset : offset + ncols]; the backward of concat_cols.
inline void slice_cols(const Backend& be, const float* src, int csrc, int offset, int ncols, int rows, float* dst) {
  AMNESIA_DISPATCH(be, slice_cols, src, csrc, offset, ncols, rows, dst);
}
// out[r, c] = (labels[r] == c); labels must lie in [0, nclass).
inline void onehot(const Backend& be, const int* labels, int rows, int nclass, float* out) {
  AMNESIA_DISPATCH(be, onehot, labels, rows, nclass, out);
}
// dst[r] = src[idx[r]]: assembles a batch from a dataset resident on the device.
inline void gather_rows(const Backend& be, const float* src, int cols, const int* idx, int rows, float* dst) {
  AMNESIA_DISPATCH(be, gather_rows, src, cols, idx, rows, dst);
}
