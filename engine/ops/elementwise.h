// Small flat-buffer ops: fill, y += a*x, y = a*x.
#pragma once
#include <cstdint>
#include "engine/backend.h"

AMNESIA_OP(fill, float* x, int64_t n, float value)
AMNESIA_OP(axpy, int64_t n, float a, const float* x, float* y)
// x and y may alias.
AMNESIA_OP(scale_copy, int64_t n, float a, const float* x, float* y)
