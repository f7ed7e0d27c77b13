// Small flat-buffer ops: fill, y += a*x, y = a*x.
#pragma once
#include <cstdint>
#include "engine/backend.h"

namespace cpu {
void fill(float* x, int64_t n, float value);
void axpy(int64_t n, float a, const float* x, float* y);
void scale_copy(int64_t n, float a, const float* x, float* y);
}
namespace cuda {
void fill(float* x, int64_t n, float value);
void axpy(int64_t n, float a, const float* x, float* y);
void scale_copy(int64_t n, float a, const float* x, float* y);
}

inline void fill(const Backend& be, float* x, int64_t n, float value) { AMNESIA_DISPATCH(be, fill, x, n, value); }
inline void axpy(const Backend& be, int64_t n, float a, const float* x, float* y) { AMNESIA_DISPATCH(be, axpy, n, a, x, y); }
inline void scale_copy(const Backend& be, int64_t n, float a, const float* x, float* y) {
  AMNESIA_DISPATCH(be, scale_copy, n, a, x, y);
}
