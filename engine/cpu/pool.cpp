// CPU reference of max / average pooling (see engine/ops/pool.h).
#include "engine/ops/pool.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "engine/cpu/avx512_kernels.h"
#include "engine/cpu/thread_pool.h"

namespace cpu {

namespace {
// Planes are independent: each pass splits them over the pool, at least this many per part.
constexpr int64_t kMinPlanes = 64;

// The input rows (or columns) a pooling window at output position o covers, clipped to [0, size).
int window_start(int o, const PoolGeom& g) { return std::max(0, o * g.stride - g.pad); }
int window_end(int o, const PoolGeom& g, int size) { return std::min(size, o * g.stride - g.pad + g.k); }
}  // namespace

namespace {
// Planes [p0, p1) of maxpool_fwd with AVX-512 (engine/cpu/avx512_kernels.h): 16 outputs of a row at a
// time, each tap of the window a gather of their 16 inputs (taps in the padding read -inf), the running
// maximum and its index updated where the tap is strictly greater. Taps go in row-major window order, so
// values and winners are those of the scalar scan below: the scan's branches mispredict on every new
// maximum, which made it 10 % of an LNTL step.
__attribute__((target("avx512f"))) void maxpool_planes_avx512(const float* x, const PoolGeom& g, int64_t p0,
                                                                int64_t p1, float* y, int* argmax) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(oh) * ow;
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i zero = _mm512_setzero_si512(), width = _mm512_set1_epi32(g.w);
  const __m512 minus_inf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (int64_t pl = p0; pl < p1; ++pl) {
    const float* src = x + pl * in_plane;
    for (int oy = 0; oy < oh; ++oy) {
      const int y0 = window_start(oy, g), y1 = window_end(oy, g, g.h);
      const int64_t out_row = pl * out_plane + static_cast<int64_t>(oy) * ow;
      for (int ox0 = 0; ox0 < ow; ox0 += 16) {
        const int lanes = std::min(16, ow - ox0);
        const __mmask16 live = static_cast<__mmask16>((1u << lanes) - 1u);
        // Each lane's first window column, ox * stride - pad (may be negative: padding).
        const __m512i first = _mm512_sub_epi32(
            _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32(ox0), lane), _mm512_set1_epi32(g.stride)),
            _mm512_set1_epi32(g.pad));
        __m512 best = minus_inf;
        // max(first, 0) as a blend (GCC 12's _mm512_max_epi32 trips its own -Wmaybe-uninitialized).
        const __m512i first_inside = _mm512_mask_blend_epi32(_mm512_cmplt_epi32_mask(first, zero), first, zero);
        __m512i at = _mm512_add_epi32(_mm512_set1_epi32(y0 * g.w), first_inside);
        for (int iy = y0; iy < y1; ++iy) {
          const float* row = src + static_cast<int64_t>(iy) * g.w;
          const __m512i row_start = _mm512_set1_epi32(iy * g.w);
          for (int kj = 0; kj < g.k; ++kj) {
            const __m512i col = _mm512_add_epi32(first, _mm512_set1_epi32(kj));
            const __mmask16 inside =
                live & _mm512_cmpge_epi32_mask(col, zero) & _mm512_cmplt_epi32_mask(col, width);
            const __m512 v = _mm512_mask_i32gather_ps(minus_inf, inside, col, row, 4);
            const __mmask16 more = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ);
            best = _mm512_mask_blend_ps(more, best, v);
            at = _mm512_mask_blend_epi32(more, at, _mm512_add_epi32(row_start, col));
          }
        }
        _mm512_mask_storeu_ps(y + out_row + ox0, live, best);
        if (argmax) _mm512_mask_storeu_epi32(argmax + out_row + ox0, live, at);
      }
    }
  }
}
}  // namespace

void maxpool_fwd(const float* x, PoolGeom g, float* y, int* argmax) {
  if (avx512_kernels()) {
    parallel_range(static_cast<int64_t>(g.n) * g.c, kMinPlanes,
                   [&](int64_t p0, int64_t p1) { maxpool_planes_avx512(x, g, p0, p1, y, argmax); });
    return;
  }
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(oh) * ow;
  parallel_range(static_cast<int64_t>(g.n) * g.c, kMinPlanes, [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      const float* src = x + pl * in_plane;
      for (int oy = 0; oy < oh; ++oy) {
        const int y0 = window_start(oy, g), y1 = window_end(oy, g, g.h);
        for (int ox = 0; ox < ow; ++ox) {
          const int x0 = window_start(ox, g), x1 = window_end(ox, g, g.w);
          float best = -std::numeric_limits<float>::infinity();
          int at = y0 * g.w + x0;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) {
              const float v = src[iy * g.w + ix];
              if (v > best) {
                best = v;
                at = iy * g.w + ix;
              }
            }
          const int64_t o = pl * out_plane + oy * ow + ox;
          y[o] = best;
          if (argmax) argmax[o] = at;
        }
      }
    }
  });
}

void maxpool_bwd(const float* dy, const int* argmax, PoolGeom g, float* dx) {
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(g.oh()) * g.ow();
  const int64_t planes = static_cast<int64_t>(g.n) * g.c;
  // Each plane zeroed just before its gradients land in it, while it sits in L1: zeroing the whole part
  // first sent it to memory and back (a miss on most scattered adds at LNTL's 12.8 MB).
  parallel_range(planes, kMinPlanes, [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      float* plane = dx + pl * in_plane;
      std::memset(plane, 0, sizeof(float) * in_plane);
      for (int64_t o = 0; o < out_plane; ++o) plane[argmax[pl * out_plane + o]] += dy[pl * out_plane + o];
    }
  });
}

void avgpool_fwd(const float* x, PoolGeom g, float* y) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(oh) * ow;
  const float inv = 1.0f / static_cast<float>(g.k * g.k);
  parallel_range(static_cast<int64_t>(g.n) * g.c, kMinPlanes, [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      const float* src = x + pl * in_plane;
      for (int oy = 0; oy < oh; ++oy) {
        const int y0 = window_start(oy, g), y1 = window_end(oy, g, g.h);
        for (int ox = 0; ox < ow; ++ox) {
          const int x0 = window_start(ox, g), x1 = window_end(ox, g, g.w);
          float s = 0.0f;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) s += src[iy * g.w + ix];
          y[pl * out_plane + oy * ow + ox] = s * inv;
        }
      }
    }
  });
}

void avgpool_bwd(const float* dy, PoolGeom g, float* dx) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(oh) * ow;
  const int64_t planes = static_cast<int64_t>(g.n) * g.c;
  const float inv = 1.0f / static_cast<float>(g.k * g.k);
  parallel_range(planes, kMinPlanes, [&](int64_t p0, int64_t p1) {
    for (int64_t pl = p0; pl < p1; ++pl) {
      float* dst = dx + pl * in_plane;
      std::memset(dst, 0, sizeof(float) * in_plane);  // in L1 for the adds, as in maxpool_bwd
      for (int oy = 0; oy < oh; ++oy) {
        const int y0 = window_start(oy, g), y1 = window_end(oy, g, g.h);
        for (int ox = 0; ox < ow; ++ox) {
          const int x0 = window_start(ox, g), x1 = window_end(ox, g, g.w);
          const float d = dy[pl * out_plane + oy * ow + ox] * inv;
          for (int iy = y0; iy < y1; ++iy)
            for (int ix = x0; ix < x1; ++ix) dst[iy * g.w + ix] += d;
        }
      }
    }
  });
}

}  // namespace cpu
