// Batched matrix transpose: dst[b, j, i] = src[b, i, j] for `batch` row-major rows x cols matrices.
// It turns an NCHW map into channels-last rows (batch = N, rows = C, cols = H*W) so that per-pixel
// heads reuse the row-wise softmax ops, and (rows and cols swapped) turns their gradients back.
#pragma once
#include <cstdint>
#include "engine/backend.h"

// dst must not alias src.
AMNESIA_OP(batched_transpose, const float* src, int batch, int rows, int cols, float* dst)
