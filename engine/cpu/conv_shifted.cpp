// The shifted-plane convolution (see conv_shifted.h for the method). Only the kernels and the loops
// that call them carry the AVX-512 target; shifted_conv_applies keeps them off CPUs without it
// (engine/cpu/avx512_kernels.h).
#include "engine/cpu/conv_shifted.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "engine/cpu/avx512_kernels.h"
#include "engine/cpu/lane_sum.h"
#include "engine/cpu/shifted_gemm.h"
#include "engine/cpu/thread_pool.h"

#define AMNESIA_AVX512 __attribute__((target("avx512f")))

namespace cpu {

namespace {

constexpr int kBlock = kShiftedBlock;  // grid positions one kernel call computes per row (2 registers)
constexpr int kMaxK = 7;            // kernel sizes the tap tables are sized for
constexpr int kMaxStride = 3;       // strides the phase tables are sized for
// A backward chunk's planes are kept near this many floats (1 MB), so the weight gradient's passes over
// them (one per 32 output channels and 12 (channel, tap) rows) hit the core's L2 cache; and a batch is
// cut into at least kMinChunks chunks, so that two threads share it evenly (the judge's second layer
// went in chunks of 37 and 27 images; with 16, bench_conv --threads 2 took 0.76-1.08x the CPU time
// on the judge's, MAE's and LNTL's backward passes, below 1 on all but LNTL f.conv2's data gradient).
constexpr int64_t kChunkFloats = 256 * 1024;
constexpr int kMinChunks = 16;

// One phase of a strided convolution (see conv_shifted.h): the input pixels at rows s*y + a and columns
// s*x + b of the padded input, as a plane of Hh x Wg on the grid; the taps (ki, kj) with ki % s = a and
// kj % s = b read it at the shift (ki/s, kj/s). Stride 1 has one phase, the padded input itself.
struct Phase {
  int taps = 0;
  std::array<int, kMaxK * kMaxK> tap{};  // the kernel taps ki*k + kj of this phase
  int y_lo = 0, y_hi = -1, x_lo = 0, x_hi = -1;  // its plane's rows and columns that hold real input pixels
  int64_t back32 = 0;                    // (y_hi - y_lo + 1) * Wg rounded up: the data gradient's positions
};

// Where everything lies for one geometry: per image, C_in channels of x_plane floats, each channel the
// s*s phase planes of pp floats (the padded input itself at stride 1); C_out gradient planes of dy_plane
// floats whose grid origin sits dy_front floats in (for the data gradient); dy pixel-major, OH*OW x co16
// (for the weight gradient). Outputs and phase planes share the grid width wg.
struct Layout {
  int wg = 0, phases = 0;
  int64_t pp = 0;       // floats per phase plane: Hh * Wg
  int64_t grid = 0;     // OH * Wg: the forward's grid positions
  int64_t grid32 = 0;   // rounded up to kBlock (the extra positions are computed and thrown away)
  int64_t x_plane = 0, dy_front = 0, dy_plane = 0, back32 = 0;  // back32: the largest phase's
  int co16 = 0;         // C_out rounded up to 16: one AVX-512 register of output channels
  int images = 0;       // images per backward chunk
  std::array<Phase, kMaxStride * kMaxStride> phase{};

  explicit Layout(const ConvGeom& g) {
    const int s = g.stride, hp = g.h + 2 * g.pad, wp = g.w + 2 * g.pad, hh = (hp + s - 1) / s;
    const int reach = (g.k - 1) / s;  // the largest shift within a phase
    phases = s * s;
    // Wide enough that the shifts of the real outputs stay inside a row, and a row's wrap-around reads
    // land on the zero columns past OW (for the data gradient).
    wg = std::max((wp + s - 1) / s, g.ow() + reach);
    pp = static_cast<int64_t>(hh) * wg;
    grid = static_cast<int64_t>(g.oh()) * wg;
    grid32 = round_up(grid, kBlock);
    const int64_t max_shift = static_cast<int64_t>(reach) * (wg + 1);
    x_plane = round_up(std::max(phases * pp, (phases - 1) * pp + grid32 + max_shift), kLanes);
    int64_t front = 0, end = grid32;
    for (int t = 0; t < g.k * g.k; ++t) {
      Phase& ph = phase[(t / g.k % s) * s + t % g.k % s];
      ph.tap[ph.taps++] = t;
    }
    for (int a = 0; a < s; ++a)
      for (int b = 0; b < s; ++b) {
        Phase& ph = phase[a * s + b];
        ph.y_lo = (g.pad - a + s - 1) / s, ph.y_hi = (g.pad + g.h - 1 - a) / s;
        ph.x_lo = (g.pad - b + s - 1) / s, ph.x_hi = (g.pad + g.w - 1 - b) / s;
        ph.back32 = round_up(static_cast<int64_t>(std::max(0, ph.y_hi - ph.y_lo + 1)) * wg, kBlock);
        back32 = std::max(back32, ph.back32);
        // The data gradient reads the grid at y_lo*Wg + p - shift for p < back32.
        front = std::max(front, max_shift - static_cast<int64_t>(ph.y_lo) * wg);
        end = std::max(end, static_cast<int64_t>(ph.y_lo) * wg + ph.back32);
      }
    dy_front = round_up(front, kLanes);
    dy_plane = dy_front + round_up(end, kLanes);
    co16 = static_cast<int>(round_up(g.c_out, kLanes));
    const int64_t per_image = g.c_in * x_plane + g.c_out * dy_plane + static_cast<int64_t>(g.oh()) * g.ow() * co16;
    images = static_cast<int>(
        std::max<int64_t>(1, std::min<int64_t>({g.n, kChunkFloats / per_image, (g.n + kMinChunks - 1) / kMinChunks})));
  }
};

// Scratch: the two packed weights; per thread, a chunk's padded input planes, gradient planes and
// pixel-major gradients and one image's output tile; per backward chunk, its dW partial (transposed:
// C_in*k*k x co16) and db partial (C_out).
struct Scratch {
  float *a_fwd, *a_dx, *xp, *dyp, *dyt, *tile;
};
struct Partial {
  float *dw, *db;
};
int64_t pixel_major_floats(const ConvGeom& g, const Layout& l) { return static_cast<int64_t>(g.oh()) * g.ow() * l.co16; }
int64_t image_floats(const ConvGeom& g, const Layout& l) {
  return g.c_in * l.x_plane + g.c_out * l.dy_plane + pixel_major_floats(g, l);
}
int64_t tile_floats(const ConvGeom& g, const Layout& l) {
  return std::max(round_up(g.c_out, 4) * l.grid32, round_up(g.c_in, 4) * l.back32);
}
int64_t thread_floats(const ConvGeom& g, const Layout& l) { return l.images * image_floats(g, l) + tile_floats(g, l); }
int64_t partial_floats(const ConvGeom& g, const Layout& l) { return g.col_rows() * l.co16 + g.c_out; }
int64_t shared_floats(const ConvGeom& g, const Layout& l) {
  int64_t dx_packed = 0;
  for (int ph = 0; ph < l.phases; ++ph)
    dx_packed += packed_floats(g.c_in, static_cast<int64_t>(g.c_out) * l.phase[ph].taps);
  return packed_floats(g.c_out, g.col_rows()) + dx_packed;
}
Scratch scratch_of(const ConvGeom& g, const Layout& l, float* ws, int thread) {
  Scratch s;
  s.a_fwd = ws;
  s.a_dx = ws + packed_floats(g.c_out, g.col_rows());
  s.xp = ws + shared_floats(g, l) + thread * thread_floats(g, l);
  s.dyp = s.xp + l.images * g.c_in * l.x_plane;
  s.dyt = s.dyp + l.images * g.c_out * l.dy_plane;
  s.tile = s.dyt + l.images * pixel_major_floats(g, l);
  return s;
}
Partial partial_of(const ConvGeom& g, const Layout& l, float* ws, int chunk) {
  float* dw = ws + shared_floats(g, l) + threads() * thread_floats(g, l) + chunk * partial_floats(g, l);
  return Partial{dw, dw + g.col_rows() * l.co16};
}

// Each tap's offset in a channel's planes for the forward and the weight gradient: its phase plane, then
// its shift (ki/s, kj/s) on the grid.
std::array<int, kMaxK * kMaxK> forward_offsets(const ConvGeom& g, const Layout& l) {
  std::array<int, kMaxK * kMaxK> off{};
  const int s = g.stride;
  for (int ki = 0; ki < g.k; ++ki)
    for (int kj = 0; kj < g.k; ++kj)
      off[ki * g.k + kj] = static_cast<int>(((ki % s) * s + kj % s) * l.pp + (ki / s) * l.wg + kj / s);
  return off;
}
// A phase's taps for the data gradient: minus their shifts on the grid.
std::array<int, kMaxK * kMaxK> backward_offsets(const ConvGeom& g, const Layout& l, const Phase& ph) {
  std::array<int, kMaxK * kMaxK> off{};
  for (int i = 0; i < ph.taps; ++i) {
    const int ki = ph.tap[i] / g.k, kj = ph.tap[i] % g.k;
    off[i] = -((ki / g.stride) * l.wg + kj / g.stride);
  }
  return off;
}

// The planes are a few hundred floats: plain loops (kept inline, see CMakeLists.txt) instead of a
// memset / memcpy call per row (library calls that cost more than the copying at these sizes).
void zero(float* p, int64_t n) {
  for (int64_t i = 0; i < n; ++i) p[i] = 0.0f;
}
void copy(const float* from, int64_t n, float* to) {
  for (int64_t i = 0; i < n; ++i) to[i] = from[i];
}

// At stride 2 with rows of at most 16 floats (every stride-2 layer of the studies), one phase-plane row
// is one register: lane j in [x_lo, x_hi] holds xr[2 (j - x_lo)], every other lane 0. Two masked loads
// cover the pixels the row reads and one permute picks every second one; the masks and the permute's
// indices depend on the phase alone. (The strided scalar copy was a fifth of the MAE's step.)
struct Stride2Row {
  __mmask16 lo = 0, hi = 0, real = 0, row = 0;  // loads' lanes, the row's pixels, the row
  __m512i from;
  AMNESIA_AVX512 Stride2Row(const Phase& ph, int wg) {
    const int span = 2 * (ph.x_hi - ph.x_lo) + 1;
    lo = first_lanes(span);
    hi = first_lanes(span - kLanes);
    real = static_cast<__mmask16>(first_lanes(ph.x_hi + 1) & ~first_lanes(ph.x_lo));
    row = first_lanes(wg);
    const __m512i lane = _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
    const __m512i step = _mm512_sub_epi32(lane, _mm512_set1_epi32(ph.x_lo));
    from = _mm512_add_epi32(step, step);
  }
  AMNESIA_AVX512 void gather(const float* xr, float* out) const {
    const __m512 a = _mm512_maskz_loadu_ps(lo, xr);
    const __m512 b = hi ? _mm512_maskz_loadu_ps(hi, xr + kLanes) : _mm512_setzero_ps();
    _mm512_mask_storeu_ps(out, row, _mm512_maskz_permutex2var_ps(real, a, from, b));
  }
};

// pad_image at stride 2 for rows of at most 16 floats (see Stride2Row).
AMNESIA_AVX512 void pad_image_stride2(const ConvGeom& g, const Layout& l, const float* x, float* xp) {
  const int rows = static_cast<int>(l.pp / l.wg);
  for (int p = 0; p < l.phases; ++p) {
    const Phase& ph = l.phase[p];
    const Stride2Row gather(ph, l.wg);
    const int a = p / 2, row_at = 2 * ph.x_lo + p % 2 - g.pad;
    for (int c = 0; c < g.c_in; ++c) {
      float* plane = xp + c * l.x_plane + p * l.pp;
      const float* xc = x + static_cast<int64_t>(c) * g.h * g.w + row_at;
      for (int y = 0; y < rows; ++y) {
        float* row = plane + static_cast<int64_t>(y) * l.wg;
        if (y < ph.y_lo || y > ph.y_hi)
          _mm512_mask_storeu_ps(row, gather.row, _mm512_setzero_ps());
        else
          gather.gather(xc + static_cast<int64_t>(2 * y + a - g.pad) * g.w, row);
      }
    }
  }
  for (int c = 0; c < g.c_in; ++c) zero(xp + c * l.x_plane + l.phases * l.pp, l.x_plane - l.phases * l.pp);
}

// One image's C_in channels of phase planes, zeros around the pixels and in the slack. At stride 1 the
// one plane is x's rows at (pad, pad) and the rows are copied whole; at stride s each phase plane
// gathers every s-th pixel of the padded input.
void pad_image(const ConvGeom& g, const Layout& l, const float* x, float* xp) {
  const int s = g.stride;
  if (s == 2 && l.wg <= kLanes) return pad_image_stride2(g, l, x, xp);
  for (int c = 0; c < g.c_in; ++c) {
    float* chan = xp + c * l.x_plane;
    const float* xc = x + static_cast<int64_t>(c) * g.h * g.w;
    if (s == 1) {
      zero(chan, static_cast<int64_t>(g.pad) * l.wg + g.pad);
      for (int y = 0; y < g.h; ++y) {
        float* row = chan + static_cast<int64_t>(y + g.pad) * l.wg + g.pad;
        copy(xc + static_cast<int64_t>(y) * g.w, g.w, row);
        zero(row + g.w, y + 1 < g.h ? l.wg - g.w : 0);  // this row's right padding and the next one's left
      }
      const int64_t done = static_cast<int64_t>(g.h + g.pad - 1) * l.wg + g.pad + g.w;
      zero(chan + done, l.x_plane - done);
      continue;
    }
    const int rows = static_cast<int>(l.pp / l.wg);
    for (int p = 0; p < l.phases; ++p) {
      const Phase& ph = l.phase[p];
      const int a = p / s, b = p % s, row_at = s * ph.x_lo + b - g.pad;
      for (int y = 0; y < rows; ++y) {
        float* row = chan + p * l.pp + static_cast<int64_t>(y) * l.wg;
        if (y < ph.y_lo || y > ph.y_hi) {
          zero(row, l.wg);
          continue;
        }
        // Columns x_lo .. x_hi hold pixels s*x + b - pad of input row s*y + a - pad; zeros around them.
        const float* xr = xc + static_cast<int64_t>(s * y + a - g.pad) * g.w + row_at;
        zero(row, ph.x_lo);
        for (int x = 0; x <= ph.x_hi - ph.x_lo; ++x) row[ph.x_lo + x] = xr[s * x];
        zero(row + ph.x_hi + 1, l.wg - ph.x_hi - 1);
      }
    }
    zero(chan + l.phases * l.pp, l.x_plane - l.phases * l.pp);
  }
}

// One image's gradient planes: dy's rows at the grid's real positions, zeros everywhere else (the
// front margin, the thrown-away columns, the rows past OH and the slack).
void grid_image(const ConvGeom& g, const Layout& l, const float* dy, float* dyp) {
  const int oh = g.oh(), ow = g.ow();
  for (int c = 0; c < g.c_out; ++c) {
    float* plane = dyp + c * l.dy_plane;
    zero(plane, l.dy_front);
    for (int y = 0; y < oh; ++y) {
      float* row = plane + l.dy_front + static_cast<int64_t>(y) * l.wg;
      copy(dy + (static_cast<int64_t>(c) * oh + y) * ow, ow, row);
      zero(row + ow, l.wg - ow);
    }
    const int64_t done = l.dy_front + static_cast<int64_t>(oh) * l.wg;
    zero(plane + done, l.dy_plane - done);
  }
}

// The inverse of Stride2Row for the data gradient, for dx rows of at most 32 floats: the phase's
// columns of one dx row are its positions q = 2x + b - pad, so one tile row (one register) spreads over
// the row's two 16-lane halves with a permute each, stored under a mask of those positions alone (the
// other phase of the row writes the rest).
struct Stride2Scatter {
  __mmask16 load = 0, keep[2] = {0, 0};
  __m512i from[2];
  AMNESIA_AVX512 Stride2Scatter(const ConvGeom& g, const Layout& l, int b) {
    load = first_lanes(l.wg);
    for (int half = 0; half < 2; ++half) {
      alignas(64) int idx[kLanes];
      for (int j = 0; j < kLanes; ++j) {
        const int q = half * kLanes + j, at = q + g.pad - b;
        idx[j] = at >= 0 ? at / 2 : 0;
        if (q < g.w && at >= 0 && at % 2 == 0) keep[half] = static_cast<__mmask16>(keep[half] | (1u << j));
      }
      from[half] = _mm512_load_si512(idx);
    }
  }
  AMNESIA_AVX512 void scatter(const float* tile_row, float* dx_row) const {
    const __m512 v = _mm512_maskz_loadu_ps(load, tile_row);
    for (int half = 0; half < 2; ++half)
      if (keep[half])
        _mm512_mask_storeu_ps(dx_row + half * kLanes, keep[half],
                              _mm512_maskz_permutexvar_ps(keep[half], from[half], v));
  }
};

// One image's dx from one phase's data-gradient tile (C_in rows of ph.back32): the tile's position
// (y - y_lo)*Wg + x is padded input pixel (s*y + a, s*x + b). At stride 1, whole rows.
AMNESIA_AVX512 void unpad_input_grad(const ConvGeom& g, const Layout& l, int phase, const float* tile, float* dx) {
  const Phase& ph = l.phase[phase];
  const int s = g.stride, a = phase / s, b = phase % s;
  if (s == 2 && l.wg <= kLanes && g.w <= 2 * kLanes) {
    const Stride2Scatter spread(g, l, b);
    for (int c = 0; c < g.c_in; ++c)
      for (int y = ph.y_lo; y <= ph.y_hi; ++y)
        spread.scatter(tile + c * ph.back32 + static_cast<int64_t>(y - ph.y_lo) * l.wg,
                       dx + (static_cast<int64_t>(c) * g.h + 2 * y + a - g.pad) * g.w);
    return;
  }
  for (int c = 0; c < g.c_in; ++c) {
    const float* t = tile + c * ph.back32;
    float* dxc = dx + static_cast<int64_t>(c) * g.h * g.w;
    for (int y = ph.y_lo; y <= ph.y_hi; ++y) {
      const float* from = t + static_cast<int64_t>(y - ph.y_lo) * l.wg;
      float* to = dxc + static_cast<int64_t>(s * y + a - g.pad) * g.w;
      if (s == 1)
        copy(from + g.pad, g.w, to);
      else
        for (int x = ph.x_lo; x <= ph.x_hi; ++x) to[s * x + b - g.pad] = from[x];
    }
  }
}

// One image's dy pixel-major: dyt[p, c] = dy[c, p], the channels past C_out zero. Each position's 16
// channels come in one gather (the channels lie ohw floats apart) and leave in one store; the gathers
// walk the channel planes in step, so each plane is read in order.
AMNESIA_AVX512 void pixel_major_image(const ConvGeom& g, const Layout& l, const float* dy, float* dyt) {
  const int ohw = g.oh() * g.ow();
  const __m512i planes = _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                                            _mm512_set1_epi32(ohw));
  for (int c = 0; c < l.co16; c += kLanes) {
    const __mmask16 keep = first_lanes(g.c_out - c);
    const float* from = dy + static_cast<int64_t>(c) * ohw;
    for (int p = 0; p < ohw; ++p)
      _mm512_storeu_ps(dyt + static_cast<int64_t>(p) * l.co16 + c,
                       _mm512_mask_i32gather_ps(_mm512_setzero_ps(), keep, planes, from + p, 4));
  }
}

// c[i, 0..16*NV) = sum over channels ch and taps t of a[(ch*taps + t)*MR + i] * b[ch*plane + off[t] + ..]
// for MR rows i: the MR*NV accumulators stay in registers for the whole sum (12 x 2 or 8 x 2 for the row
// blocks of row_block(), 24 or 16 sums: 12 rows load fewer B vectors per FMA, and took the judge's
// forward convolutions 1.1-1.2x faster in bench_conv; 4 x 4 for a last block of 4 rows, so it still has
// 16 sums in flight to hide the FMA latency).
template <int MR, int NV>
AMNESIA_AVX512 void shifted_block(const float* a, int channels, int taps, const int* off, const float* b,
                                  int64_t plane, float* c, int64_t ldc) {
  __m512 acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int ch = 0; ch < channels; ++ch) {
    const float* bp = b + ch * plane;
    for (int t = 0; t < taps; ++t, a += MR) {
      __m512 bv[NV];
      for (int v = 0; v < NV; ++v) bv[v] = _mm512_loadu_ps(bp + off[t] + v * kLanes);
#pragma GCC unroll 12
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(a[i]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + i * ldc + v * kLanes, acc[i][v]);
}

// dwt[i, 0..16*NV) += sum over images and real output positions p of x[col[i] + q(p)] * dyt[p, 0..16*NV)
// for KR weight-gradient rows i = (channel, tap) and 16*NV output channels, where q(p) is p's position
// on the padded grid: the output channels lie along the registers, so no horizontal sums.
template <int NV, int KR>
AMNESIA_AVX512 void weight_grad_block(const ConvGeom& g, const Layout& l, const float* dyt, int64_t dyt_image,
                                      const float* x, const int64_t* col, int64_t x_image, int images, float* dwt) {
  __m512 acc[KR][NV];
  for (int i = 0; i < KR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  const int oh = g.oh(), ow = g.ow();
  for (int n = 0; n < images; ++n) {
    const float* d = dyt + n * dyt_image;
    const float* xn = x + n * x_image;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox, d += l.co16) {
        const int64_t q = static_cast<int64_t>(oy) * l.wg + ox;
        __m512 dv[NV];
        for (int v = 0; v < NV; ++v) dv[v] = _mm512_loadu_ps(d + v * kLanes);
#pragma GCC unroll 12
        for (int i = 0; i < KR; ++i) {
          const __m512 xi = _mm512_set1_ps(xn[col[i] + q]);
          for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(xi, dv[v], acc[i][v]);
        }
      }
  }
  for (int i = 0; i < KR; ++i)
    for (int v = 0; v < NV; ++v) {
      float* out = dwt + i * l.co16 + v * kLanes;
      _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), acc[i][v]));
    }
}

constexpr int kWeightGradRows = 12;

// weight_grad_block for a block of `rows` rows (1 .. kWeightGradRows), each size its own kernel.
template <int NV, int KR = kWeightGradRows>
AMNESIA_AVX512 void weight_grad_rows(int rows, const ConvGeom& g, const Layout& l, const float* dyt, int64_t dyt_image,
                                     const float* x, const int64_t* col, int64_t x_image, int images, float* dwt) {
  if constexpr (KR > 1)
    if (rows < KR) return weight_grad_rows<NV, KR - 1>(rows, g, l, dyt, dyt_image, x, col, x_image, images, dwt);
  weight_grad_block<NV, KR>(g, l, dyt, dyt_image, x, col, x_image, images, dwt);
}

// The C_in*k*k rows in blocks of 12; when 1-3 would be left over, the last 12 and those go as two
// blocks of 6-8 instead: a block of 1-3 rows keeps too few sums in flight and cost nearly as much as a
// full one (LNTL's first layer has 75 rows, the judge's 25).
int weight_grad_block_rows(int64_t remaining) {
  if (remaining >= kWeightGradRows + 4 || remaining == kWeightGradRows) return kWeightGradRows;
  return static_cast<int>(remaining > kWeightGradRows ? remaining / 2 : remaining);
}

template <int NV>
AMNESIA_AVX512 void weight_grad_columns(const ConvGeom& g, const Layout& l, const int* off, int images,
                                        const float* xp, const float* dyt, float* dwt) {
  const int64_t k = g.col_rows(), x_image = g.c_in * l.x_plane, dyt_image = pixel_major_floats(g, l);
  const int taps = g.k * g.k;
  std::array<int64_t, kWeightGradRows> col;
  for (int64_t r = 0; r < k;) {
    const int rows = weight_grad_block_rows(k - r);
    for (int i = 0; i < rows; ++i) col[i] = (r + i) / taps * l.x_plane + off[(r + i) % taps];
    weight_grad_rows<NV>(rows, g, l, dyt, dyt_image, xp, col.data(), x_image, images, dwt + r * l.co16);
    r += rows;
  }
}

// The weight-gradient partial (transposed, C_in*k*k x co16) += one chunk's images: 32 output channels
// at a time (the last 16 alone), each against every (channel, tap) row in blocks of 12.
void weight_grad_chunk(const ConvGeom& g, const Layout& l, const int* off, int images, const float* xp,
                       const float* dyt, float* dwt) {
  for (int c = 0; c < l.co16; c += 2 * kLanes) {
    if (l.co16 - c >= 2 * kLanes)
      weight_grad_columns<2>(g, l, off, images, xp, dyt + c, dwt + c);
    else
      weight_grad_columns<1>(g, l, off, images, xp, dyt + c, dwt + c);
  }
}

}  // namespace

// Row block outermost, so its packed weights stay in L1 across the positions.
AMNESIA_AVX512 void shifted_gemm(const float* a, int rows, int channels, int taps, const int* off, const float* b,
                                 int64_t plane, int64_t len, float* c, int64_t ldc) {
  const int rows4 = static_cast<int>(round_up(rows, 4));
  const int64_t k = static_cast<int64_t>(channels) * taps;
  for (int r = 0; r < rows4;) {
    const float* ar = a + r * k;
    float* cr = c + r * ldc;
    const int block = row_block(rows4 - r);
    if (block == 12) {
      for (int64_t p = 0; p < len; p += kBlock)
        shifted_block<12, 2>(ar, channels, taps, off, b + p, plane, cr + p, ldc);
      r += 12;
    } else if (block == 8) {
      for (int64_t p = 0; p < len; p += kBlock) shifted_block<8, 2>(ar, channels, taps, off, b + p, plane, cr + p, ldc);
      r += 8;
    } else {
      int64_t p = 0;
      for (; p + 2 * kBlock <= len; p += 2 * kBlock)
        shifted_block<4, 4>(ar, channels, taps, off, b + p, plane, cr + p, ldc);
      if (p < len) shifted_block<4, 2>(ar, channels, taps, off, b + p, plane, cr + p, ldc);
      r += 4;
    }
  }
}

bool shifted_conv_enabled() { return avx512_kernels(); }

bool shifted_conv_applies(const ConvGeom& g) {
  return shifted_conv_enabled() && g.stride <= kMaxStride && g.k <= kMaxK;
}

int64_t shifted_conv_workspace(const ConvGeom& g) {
  const Layout l(g);
  return shared_floats(g, l) + threads() * thread_floats(g, l) + chunk_count(g.n, l.images) * partial_floats(g, l);
}

void shifted_conv_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws) {
  const Layout l(g);
  const int64_t k = g.col_rows(), in_image = static_cast<int64_t>(g.c_in) * g.h * g.w;
  const int oh = g.oh(), ow = g.ow();
  const int64_t out_image = static_cast<int64_t>(g.c_out) * oh * ow;
  const Scratch shared = scratch_of(g, l, ws, 0);
  pack_rows(g.c_out, k, [&](int m, int64_t kk) { return w[m * k + kk]; }, shared.a_fwd);
  const auto off = forward_offsets(g, l);
  for_each_chunk(g.n, 1, [&](int n, int, int) {
    const Scratch s = scratch_of(g, l, ws, thread_index());
    pad_image(g, l, x + n * in_image, s.xp);
    shifted_gemm(s.a_fwd, g.c_out, g.c_in, g.k * g.k, off.data(), s.xp, l.x_plane, l.grid32, s.tile, l.grid32);
    float* yn = y + n * out_image;
    for (int c = 0; c < g.c_out; ++c) {
      const float bias = b ? b[c] : 0.0f;
      for (int r = 0; r < oh; ++r) {
        const float* from = s.tile + c * l.grid32 + static_cast<int64_t>(r) * l.wg;
        float* to = yn + (static_cast<int64_t>(c) * oh + r) * ow;
        for (int q = 0; q < ow; ++q) to[q] = from[q] + bias;
      }
    }
  });
}

void shifted_conv_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw,
                           float* db, float* ws) {
  const Layout l(g);
  const int taps = g.k * g.k;
  const int64_t k = g.col_rows(), in_image = static_cast<int64_t>(g.c_in) * g.h * g.w;
  const int ohw = g.oh() * g.ow();
  const int64_t out_image = static_cast<int64_t>(g.c_out) * ohw;
  const Scratch shared = scratch_of(g, l, ws, 0);
  // Per phase: w with its channels swapped, that phase's taps only, and those taps' offsets.
  std::array<const float*, kMaxStride * kMaxStride> a_dx{};
  std::array<std::array<int, kMaxK * kMaxK>, kMaxStride * kMaxStride> back_off{};
  float* packed = shared.a_dx;
  for (int p = 0; p < l.phases; ++p) {
    const Phase& ph = l.phase[p];
    back_off[p] = backward_offsets(g, l, ph);
    a_dx[p] = packed;
    if (dx)
      pack_rows(
          g.c_in, static_cast<int64_t>(g.c_out) * ph.taps,
          [&](int ci, int64_t kk) { return w[(kk / ph.taps * g.c_in + ci) * taps + ph.tap[kk % ph.taps]]; }, packed);
    packed += packed_floats(g.c_in, static_cast<int64_t>(g.c_out) * ph.taps);
  }
  const auto fwd_off = forward_offsets(g, l);
  for_each_chunk(g.n, l.images, [&](int first, int images, int chunk) {
    const Scratch s = scratch_of(g, l, ws, thread_index());
    const Partial part = partial_of(g, l, ws, chunk);
    if (dw || db) std::memset(part.dw, 0, sizeof(float) * partial_floats(g, l));
    for (int i = 0; i < images; ++i) {
      const int n = first + i;
      if (dw) pad_image(g, l, x + n * in_image, s.xp + i * g.c_in * l.x_plane);
      if (dx) grid_image(g, l, dy + n * out_image, s.dyp + i * g.c_out * l.dy_plane);
      if (dw) pixel_major_image(g, l, dy + n * out_image, s.dyt + i * pixel_major_floats(g, l));
      if (db)
        for (int c = 0; c < g.c_out; ++c) part.db[c] += lane_sum(dy + n * out_image + c * ohw, ohw);
    }
    if (dw) weight_grad_chunk(g, l, fwd_off.data(), images, s.xp, s.dyt, part.dw);
    if (!dx) return;
    for (int i = 0; i < images; ++i)
      for (int p = 0; p < l.phases; ++p) {
        const Phase& ph = l.phase[p];
        if (ph.back32 == 0) continue;  // a phase with no input pixel (a stride wider than the image)
        // The phase plane's rows y_lo .. y_hi, from the grid read at y_lo*Wg + p - shift.
        const float* origin = s.dyp + i * g.c_out * l.dy_plane + l.dy_front + static_cast<int64_t>(ph.y_lo) * l.wg;
        shifted_gemm(a_dx[p], g.c_in, g.c_out, ph.taps, back_off[p].data(), origin, l.dy_plane, ph.back32, s.tile,
                     ph.back32);
        unpad_input_grad(g, l, p, s.tile, dx + (first + i) * in_image);
      }
  });
  const int chunks = chunk_count(g.n, l.images);
  const Partial p0 = partial_of(g, l, ws, 0);
  const int64_t stride = partial_floats(g, l);
  if (dw) add_partials(dw, g.c_out, k, p0.dw, 1, l.co16, stride, chunks);  // the partials hold dW transposed
  if (db) add_partials(db, 1, g.c_out, p0.db, 0, 1, stride, chunks);
}

}  // namespace cpu
