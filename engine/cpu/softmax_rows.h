// Row softmaxes sixteen rows at a time, for the softmax ops (softmax_xent.cpp, softmax_entropy.cpp). Their
// rows are short (8 colour bins, 10 digits) and many (one per pixel and colour channel): the 16 rows
// of a block are turned on their side so each class is one vector of 16 rows, and every exponential
// and logarithm is a 16-wide one (vec16.h). Blocks in kSlices fixed row slices over the pool, each
// slice's loss summed in its own double, the slices added in order: the same bits at any thread count.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

#include "engine/cpu/thread_pool.h"
#include "engine/cpu/vec16.h"

namespace cpu {

// One block: up to 16 rows of a rows x classes matrix, class j of every row in lanes of v[j].
struct RowBlock {
  int first = 0, rows = 0;  // rows [first, first + rows) of the matrix
  f32x16* v = nullptr;      // classes vectors
};

// Rows [first, first + rows) of x (row-major, `classes` wide) into v, lanes past `rows` zero.
AMNESIA_VEC_INLINE void load_rows(const float* x, int classes, int first, int rows, f32x16* v) {
  for (int j = 0; j < classes; ++j) v[j] = f32x16{};
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < classes; ++j) v[j][i] = x[static_cast<int64_t>(first + i) * classes + j];
}
AMNESIA_VEC_INLINE void store_rows(const f32x16* v, int classes, int first, int rows, float* x) {
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < classes; ++j) x[static_cast<int64_t>(first + i) * classes + j] = v[j][i];
}

// In place: v[j] = p_j = softmax of each lane's row; returns log z (logsumexp) per lane. Max-shifted,
// so large logits do not overflow; shifted[j] = l_j - log z is left in `shifted` when it is not null.
AMNESIA_VEC_INLINE f32x16 softmax_lanes(f32x16* v, int classes, f32x16* shifted) {
  f32x16 mx = v[0];
  for (int j = 1; j < classes; ++j) mx = v[j] > mx ? v[j] : mx;
  f32x16 sum = {};
  for (int j = 0; j < classes; ++j) sum += exp16(v[j] - mx);
  const f32x16 log_z = mx + log16(sum);
  for (int j = 0; j < classes; ++j) {
    const f32x16 s = v[j] - log_z;
    if (shifted) shifted[j] = s;
    v[j] = exp16(s);
  }
  return log_z;
}

// The blocks of rows [lo, hi), their terms summed in order. Cloned for AVX-512 (vec16.h): the op's
// block body, inlined here, is compiled for each clone's target.
template <class Block>
AMNESIA_SIMD_CLONES double row_slice(int lo, int hi, int classes, const Block& block) {
  // 2 * classes vectors per thread, grown once, on a 64-byte boundary: the AVX-512 clone's vector moves
  // need it, and the allocator (which sees a 16-byte-aligned type outside the clone) promises only 16.
  thread_local std::vector<float> store;
  const size_t floats = static_cast<size_t>(2 * classes + 1) * 16;
  if (store.size() < floats) store.resize(floats);
  f32x16* scratch = reinterpret_cast<f32x16*>((reinterpret_cast<uintptr_t>(store.data()) + 63) & ~uintptr_t{63});
  double sum = 0.0;
  for (int r = lo; r < hi; r += 16) sum += block(RowBlock{r, std::min(16, hi - r), scratch}, scratch + classes);
  return sum;
}

// Runs block(RowBlock, scratch of `classes` vectors) -> double over every 16-row block of `rows`, the
// blocks in kSlices fixed slices spread over the pool; the slices' sums added in order. The op passes
// its block body as an AMNESIA_VEC_INLINE lambda so that it is inlined into row_slice's clones.
template <class Block>
double for_each_row_block(int rows, int classes, const Block& block) {
  return sum_over_slices(rows, [&](int64_t lo, int64_t hi) {
    return row_slice(static_cast<int>(lo), static_cast<int>(hi), classes, block);
  });
}

}  // namespace cpu
