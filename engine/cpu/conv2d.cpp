// CPU reference of the convolution primitives (see engine/ops/conv2d.h). The GEMMs go to OpenBLAS via
// the gemm dispatcher; these loops only move data, so they are written to stream through memory:
// each im2col row is filled plane by plane with the padding handled by a precomputed valid range
// instead of a bounds test per element.
#include "engine/ops/conv2d.h"

#include <algorithm>
#include <cstring>

#include "engine/cpu/lane_sum.h"
#include "engine/cpu/thread_pool.h"

namespace cpu {

namespace {
// Integer division rounding toward -inf / +inf for a possibly negative numerator and b > 0.
inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int ceil_div(int a, int b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

// Output positions o in [lo, hi] whose input tap o*stride - pad + kk lies inside [0, size).
// Empty when hi < lo.
inline void valid_range(int size, int out, int stride, int pad, int kk, int& lo, int& hi) {
  lo = std::max(0, ceil_div(pad - kk, stride));
  hi = std::min(out - 1, floor_div(size - 1 + pad - kk, stride));
}
}  // namespace

namespace {
// im2col for a stride-1 "same" convolution (OW == W): within a column-matrix row, the taps of all valid
// output rows are ONE contiguous run of the input plane shifted by (ki - pad) rows and (kj - pad)
// columns, so each (row, image) is one copy plus zeros at the borders, instead of a copy per output row.
void im2col_same(const float* x, const ConvGeom& g, float* col) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t ohw = static_cast<int64_t>(oh) * ow, cols = g.col_cols(), plane = static_cast<int64_t>(g.h) * g.w;
  for (int c = 0; c < g.c_in; ++c)
    for (int ki = 0; ki < g.k; ++ki) {
      int y_lo, y_hi;
      valid_range(g.h, oh, 1, g.pad, ki, y_lo, y_hi);
      for (int kj = 0; kj < g.k; ++kj) {
        int x_lo, x_hi;
        valid_range(g.w, ow, 1, g.pad, kj, x_lo, x_hi);
        const int shift = kj - g.pad;
        float* row = col + ((static_cast<int64_t>(c) * g.k + ki) * g.k + kj) * cols;
        for (int n = 0; n < g.n; ++n) {
          float* out = row + n * ohw;
          if (y_hi < y_lo || x_hi < x_lo) {
            std::memset(out, 0, sizeof(float) * ohw);
            continue;
          }
          // The padding rows are a row or two: inline fills, not a library call each.
          std::fill_n(out, static_cast<int64_t>(y_lo) * ow, 0.0f);
          std::fill_n(out + static_cast<int64_t>(y_hi + 1) * ow, static_cast<int64_t>(oh - 1 - y_hi) * ow, 0.0f);
          // out[oy * ow + ox] = plane[(oy + ki - pad) * W + ox + shift] over the valid rows; the run starts
          // and ends inside the plane once the first / last `shift` positions are left out.
          const float* src =
              x + (static_cast<int64_t>(n) * g.c_in + c) * plane + static_cast<int64_t>(y_lo + ki - g.pad) * g.w;
          float* dst = out + static_cast<int64_t>(y_lo) * ow;
          const int64_t run = static_cast<int64_t>(y_hi - y_lo + 1) * ow;
          const int64_t lo = std::max(0, -shift), hi = run - std::max(0, shift);
          for (int64_t j = 0; j < lo; ++j) dst[j] = 0.0f;
          std::memcpy(dst + lo, src + lo + shift, sizeof(float) * (hi - lo));
          for (int64_t j = hi; j < run; ++j) dst[j] = 0.0f;
          // Taps that fell off the left or right edge read the neighbouring row in the run: zero them.
          for (int oy = y_lo; oy <= y_hi; ++oy) {
            float* o = out + static_cast<int64_t>(oy) * ow;
            for (int ox = 0; ox < x_lo; ++ox) o[ox] = 0.0f;
            for (int ox = x_hi + 1; ox < ow; ++ox) o[ox] = 0.0f;
          }
        }
      }
    }
}
}  // namespace

void im2col(const float* x, ConvGeom g, float* col) {
  if (g.stride == 1 && g.ow() == g.w) return im2col_same(x, g, col);
  const int oh = g.oh(), ow = g.ow(), s = g.stride;
  const int64_t ohw = static_cast<int64_t>(oh) * ow, cols = g.col_cols(), plane = static_cast<int64_t>(g.h) * g.w;
  for (int c = 0; c < g.c_in; ++c)
    for (int ki = 0; ki < g.k; ++ki) {
      int y_lo, y_hi;
      valid_range(g.h, oh, s, g.pad, ki, y_lo, y_hi);
      for (int kj = 0; kj < g.k; ++kj) {
        int x_lo, x_hi;
        valid_range(g.w, ow, s, g.pad, kj, x_lo, x_hi);
        float* row = col + ((static_cast<int64_t>(c) * g.k + ki) * g.k + kj) * cols;
        for (int n = 0; n < g.n; ++n) {
          const float* src = x + (static_cast<int64_t>(n) * g.c_in + c) * plane;
          float* out = row + n * ohw;
          for (int oy = 0; oy < oh; ++oy) {
            float* o = out + static_cast<int64_t>(oy) * ow;
            if (oy < y_lo || oy > y_hi || x_hi < x_lo) {
              std::memset(o, 0, sizeof(float) * ow);
              continue;
            }
            const float* line = src + static_cast<int64_t>(oy * s - g.pad + ki) * g.w;
            const int shift = kj - g.pad;  // input column = ox * s + shift, inside the line for ox in [x_lo, x_hi]
            for (int ox = 0; ox < x_lo; ++ox) o[ox] = 0.0f;
            // Rows are short (OW values), so a plain loop beats a memcpy call per row even at stride 1.
            if (s == 1) {
              for (int ox = x_lo; ox <= x_hi; ++ox) o[ox] = line[ox + shift];
            } else {
              for (int ox = x_lo; ox <= x_hi; ++ox) o[ox] = line[ox * s + shift];
            }
            for (int ox = x_hi + 1; ox < ow; ++ox) o[ox] = 0.0f;
          }
        }
      }
    }
}

void col2im(const float* col, ConvGeom g, float* dx) {
  const int oh = g.oh(), ow = g.ow(), s = g.stride;
  const int64_t ohw = static_cast<int64_t>(oh) * ow, cols = g.col_cols(), plane = static_cast<int64_t>(g.h) * g.w;
  std::memset(dx, 0, sizeof(float) * plane * g.c_in * g.n);
  // Same traversal as im2col with the copy reversed into a sum; the order is fixed, so the result is
  // deterministic.
  for (int c = 0; c < g.c_in; ++c)
    for (int ki = 0; ki < g.k; ++ki) {
      int y_lo, y_hi;
      valid_range(g.h, oh, s, g.pad, ki, y_lo, y_hi);
      for (int kj = 0; kj < g.k; ++kj) {
        int x_lo, x_hi;
        valid_range(g.w, ow, s, g.pad, kj, x_lo, x_hi);
        if (x_hi < x_lo) continue;
        const float* row = col + ((static_cast<int64_t>(c) * g.k + ki) * g.k + kj) * cols;
        for (int n = 0; n < g.n; ++n) {
          float* dst = dx + (static_cast<int64_t>(n) * g.c_in + c) * plane;
          const float* in = row + n * ohw;
          for (int oy = y_lo; oy <= y_hi; ++oy) {
            const float* o = in + static_cast<int64_t>(oy) * ow;
            float* line = dst + static_cast<int64_t>(oy * s - g.pad + ki) * g.w;
            const int shift = kj - g.pad;
            for (int ox = x_lo; ox <= x_hi; ++ox) line[ox * s + shift] += o[ox];
          }
        }
      }
    }
}

// The layout copies split the images over the pool (each image's planes are written by one part; inside
// a convolution's own parallel chunks they run inline).
constexpr int64_t kMinImages = 4;

void cnhw_to_nchw(const float* src, const float* bias, int n, int c, int hw, float* dst) {
  parallel_range(n, kMinImages, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int j = 0; j < c; ++j) {
        const float* from = src + (static_cast<int64_t>(j) * n + i) * hw;
        float* to = dst + (i * c + j) * hw;
        const float b = bias ? bias[j] : 0.0f;
        for (int p = 0; p < hw; ++p) to[p] = from[p] + b;
      }
  });
}

void nchw_to_cnhw(const float* src, int n, int c, int hw, float* dst) {
  parallel_range(n, kMinImages, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i)
      for (int j = 0; j < c; ++j)
        std::memcpy(dst + (static_cast<int64_t>(j) * n + i) * hw, src + (i * c + j) * hw, sizeof(float) * hw);
  });
}

void row_sums_add(const float* src, int rows, int64_t cols, float* dst) {
  for (int r = 0; r < rows; ++r) {
    const float* row = src + r * cols;
    // A row can be tens of thousands long (N*OH*OW): float lanes per block of 1024, blocks in double.
    double s = 0.0;
    for (int64_t j = 0; j < cols; j += 1024) s += lane_sum(row + j, std::min<int64_t>(1024, cols - j));
    dst[r] += static_cast<float>(s);
  }
}

}  // namespace cpu
