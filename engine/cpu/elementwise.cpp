#include "engine/ops/elementwise.h"

#include "engine/cpu/thread_pool.h"

namespace cpu {

namespace {

// Elements per part below which a pass stays on one thread.
constexpr int64_t kMinPart = 1 << 15;

// The loops take the scalar by value: captured by reference, it might alias y, so each store would force
// a reload and the loop would not vectorise.
void fill_range(float* x, int64_t n, float value) {
  for (int64_t i = 0; i < n; ++i) x[i] = value;
}
void axpy_range(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] += a * x[i];
}
void scale_copy_range(int64_t n, float a, const float* x, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = a * x[i];
}

}  // namespace

// Elementwise, so the split over the pool leaves every value unchanged.
void fill(float* x, int64_t n, float value) {
  parallel_range(n, kMinPart, [=](int64_t i0, int64_t i1) { fill_range(x + i0, i1 - i0, value); });
}
void axpy(int64_t n, float a, const float* x, float* y) {
  parallel_range(n, kMinPart, [=](int64_t i0, int64_t i1) { axpy_range(i1 - i0, a, x + i0, y + i0); });
}
void scale_copy(int64_t n, float a, const float* x, float* y) {
  parallel_range(n, kMinPart, [=](int64_t i0, int64_t i1) { scale_copy_range(i1 - i0, a, x + i0, y + i0); });
}

}  // namespace cpu
