// Batched matrix transpose: dst[b, j, i] = src[b, i, j] for `batch` row-major rows x cols matrices.
// It turns an NCHW map into channels-last rows (batch = N, rows = C, cols = H*W) so that per-pixel
// heads reuse the row-wise softmax ops, and (rows and cols swapped) turns their gradients back.
#pragma once
#include <cstdint>
#include "engine/backend.h"

namespace cpu { void batched_transpose(const float* src, int batch, int rows, int cols, float* dst); }
namespace cuda { void batched_transpose(const float* src, int batch, int rows, int cols, float* dst); }

// dst must not alias src.
inline void batched_transpose(const Backend& be, const float* src, int batch, int rows, int cols, float* dst) {
  AMNESIA_DISPATCH(be, batched_transpose, src, batch, rows, cols, dst);
}
