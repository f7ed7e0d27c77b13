// Column concatenation (label conditioning), its backward slice, one-hot labels, batch gather.
#pragma once
#include "engine/backend.h"

// out[r] = [a[r] | b[r]], out is rows x (ca + cb).
AMNESIA_OP(concat_cols, const float* a, int ca, const float* b, int cb, int rows, float* out)
// dst[r] = src[r, offset : offset + ncols]; the backward of concat_cols.
AMNESIA_OP(slice_cols, const float* src, int csrc, int offset, int ncols, int rows, float* dst)
// out[r, c] = (labels[r] == c). A label outside [0, nclass) gives an all-zero row on both devices (the
// labels live on the device, where a kernel cannot throw; the data loaders and the digit-list parser
// reject such labels before they get there).
AMNESIA_OP(onehot, const int* labels, int rows, int nclass, float* out)
// dst[r] = src[idx[r]]: assembles a batch from a dataset resident on the device.
AMNESIA_OP(gather_rows, const float* src, int cols, const int* idx, int rows, float* dst)
