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
#include "engine/cpu/thread_pool.h"

#define AMNESIA_AVX512 __attribute__((target("avx512f")))

namespace cpu {

namespace {

constexpr int kLanes = 16;         // floats in an AVX-512 register
constexpr int kBlock = 2 * kLanes;  // grid positions one kernel call computes per row
constexpr int kMaxK = 7;            // kernel sizes the tap tables are sized for
// A backward chunk's planes are kept near this many floats (1 MB), so the weight gradient's passes over
// them (one per 32 output channels and 12 (channel, tap) rows) hit the core's L2 cache.
constexpr int64_t kChunkFloats = 256 * 1024;

int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }

// Where everything lies for one geometry: per image, C_in padded input planes of x_plane floats, C_out
// gradient planes of dy_plane floats whose grid origin sits dy_front floats in (for the data gradient),
// and dy pixel-major, OH*OW x co16 (for the weight gradient).
struct Layout {
  int wp = 0, taps = 0;
  int64_t grid = 0;     // OH * Wp: the forward's grid positions
  int64_t grid32 = 0;   // rounded up to kBlock (the extra positions are computed and thrown away)
  int64_t back32 = 0;   // H * Wp rounded up: the rows of padded input the data gradient computes
  int64_t max_off = 0;  // the largest tap offset, (k-1) * (Wp+1)
  int64_t x_plane = 0, dy_front = 0, dy_plane = 0;
  int co16 = 0;         // C_out rounded up to 16: one AVX-512 register of output channels
  int images = 0;       // images per backward chunk

  explicit Layout(const ConvGeom& g) {
    wp = g.w + 2 * g.pad;
    taps = g.k * g.k;
    grid = static_cast<int64_t>(g.oh()) * wp;
    grid32 = round_up(grid, kBlock);
    back32 = round_up(static_cast<int64_t>(g.h) * wp, kBlock);
    max_off = static_cast<int64_t>(g.k - 1) * (wp + 1);
    x_plane = round_up(std::max<int64_t>(static_cast<int64_t>(g.h + 2 * g.pad) * wp, grid32 + max_off), kLanes);
    // The data gradient reads the grid at pad*Wp + p - offset for p < back32: from pad*Wp - max_off
    // (before the origin when the taps reach further than the padding) to pad*Wp + back32.
    dy_front = round_up(std::max<int64_t>(0, max_off - static_cast<int64_t>(g.pad) * wp), kLanes);
    dy_plane = dy_front + round_up(std::max(grid32, static_cast<int64_t>(g.pad) * wp + back32), kLanes);
    co16 = static_cast<int>(round_up(g.c_out, kLanes));
    const int64_t per_image = g.c_in * x_plane + g.c_out * dy_plane + static_cast<int64_t>(g.oh()) * g.ow() * co16;
    images = static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g.n, kChunkFloats / per_image)));
  }
};

// The packed A operands: rows in blocks of 8 (the last blocks of 4), each block K x rows, row fastest.
int64_t packed_floats(int rows, int64_t k) { return round_up(rows, 4) * k; }
template <class Value>
void pack_rows(int rows, int64_t k, const Value& value, float* out) {
  const int rows4 = static_cast<int>(round_up(rows, 4));
  for (int r = 0; r < rows4;) {
    const int block = rows4 - r >= 8 ? 8 : 4;
    float* b = out + static_cast<int64_t>(r) * k;
    for (int64_t kk = 0; kk < k; ++kk)
      for (int i = 0; i < block; ++i) b[kk * block + i] = r + i < rows ? value(r + i, kk) : 0.0f;
    r += block;
  }
}

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
  return packed_floats(g.c_out, g.col_rows()) + packed_floats(g.c_in, static_cast<int64_t>(g.c_out) * l.taps);
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

// Tap offsets on the grid: ki*Wp + kj (forward), negated for the data gradient.
std::array<int, kMaxK * kMaxK> tap_offsets(const ConvGeom& g, const Layout& l, int sign) {
  std::array<int, kMaxK * kMaxK> off{};
  for (int ki = 0; ki < g.k; ++ki)
    for (int kj = 0; kj < g.k; ++kj) off[ki * g.k + kj] = sign * (ki * l.wp + kj);
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

// One image's C_in padded planes: x's rows at (pad, pad), zeros around them and in the slack.
void pad_image(const ConvGeom& g, const Layout& l, const float* x, float* xp) {
  for (int c = 0; c < g.c_in; ++c) {
    float* plane = xp + c * l.x_plane;
    zero(plane, static_cast<int64_t>(g.pad) * l.wp + g.pad);
    for (int y = 0; y < g.h; ++y) {
      float* row = plane + static_cast<int64_t>(y + g.pad) * l.wp + g.pad;
      copy(x + (static_cast<int64_t>(c) * g.h + y) * g.w, g.w, row);
      zero(row + g.w, y + 1 < g.h ? 2 * g.pad : 0);  // this row's right padding and the next one's left
    }
    const int64_t done = static_cast<int64_t>(g.h + g.pad - 1) * l.wp + g.pad + g.w;
    zero(plane + done, l.x_plane - done);
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
      float* row = plane + l.dy_front + static_cast<int64_t>(y) * l.wp;
      copy(dy + (static_cast<int64_t>(c) * oh + y) * ow, ow, row);
      zero(row + ow, l.wp - ow);
    }
    const int64_t done = l.dy_front + static_cast<int64_t>(oh) * l.wp;
    zero(plane + done, l.dy_plane - done);
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
    const int real = std::min(kLanes, g.c_out - c);
    const __mmask16 keep = static_cast<__mmask16>((1u << real) - 1u);
    const float* from = dy + static_cast<int64_t>(c) * ohw;
    for (int p = 0; p < ohw; ++p)
      _mm512_storeu_ps(dyt + static_cast<int64_t>(p) * l.co16 + c,
                       _mm512_mask_i32gather_ps(_mm512_setzero_ps(), keep, planes, from + p, 4));
  }
}

// c[i, 0..16*NV) = sum over channels ch and taps t of a[(ch*taps + t)*MR + i] * b[ch*plane + off[t] + ..]
// for MR rows i: the MR*NV accumulators stay in registers for the whole sum (8 x 2 for full row blocks;
// 4 x 4 for a last block of 4 rows, so it still has 16 sums in flight to hide the FMA latency).
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
#pragma GCC unroll 8
      for (int i = 0; i < MR; ++i) {
        const __m512 ai = _mm512_set1_ps(a[i]);
        for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
      }
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(c + i * ldc + v * kLanes, acc[i][v]);
}

// c [rows4 x len] (row stride len) = the packed a (pack_rows) against the shifted planes of b, len a
// multiple of kBlock. Row block outermost, so its packed weights stay in L1 across the positions.
AMNESIA_AVX512 void shifted_gemm(const float* a, int rows, int channels, int taps, const int* off, const float* b,
                                 int64_t plane, int64_t len, float* c) {
  const int rows4 = static_cast<int>(round_up(rows, 4));
  const int64_t k = static_cast<int64_t>(channels) * taps;
  for (int r = 0; r < rows4;) {
    const float* ar = a + r * k;
    float* cr = c + r * len;
    if (rows4 - r >= 8) {
      for (int64_t p = 0; p < len; p += kBlock) shifted_block<8, 2>(ar, channels, taps, off, b + p, plane, cr + p, len);
      r += 8;
    } else {
      int64_t p = 0;
      for (; p + 2 * kBlock <= len; p += 2 * kBlock) shifted_block<4, 4>(ar, channels, taps, off, b + p, plane, cr + p, len);
      if (p < len) shifted_block<4, 2>(ar, channels, taps, off, b + p, plane, cr + p, len);
      r += 4;
    }
  }
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
        const int64_t q = static_cast<int64_t>(oy) * l.wp + ox;
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

template <int NV>
AMNESIA_AVX512 void weight_grad_columns(const ConvGeom& g, const Layout& l, const int* off, int images,
                                        const float* xp, const float* dyt, float* dwt) {
  const int64_t k = g.col_rows(), x_image = g.c_in * l.x_plane, dyt_image = pixel_major_floats(g, l);
  std::array<int64_t, 12> col;
  for (int64_t r = 0; r < k;) {
    const int rows = k - r >= 12 ? 12 : k - r >= 4 ? 4 : 1;
    for (int i = 0; i < rows; ++i) col[i] = (r + i) / l.taps * l.x_plane + off[(r + i) % l.taps];
    float* out = dwt + r * l.co16;
    if (rows == 12)
      weight_grad_block<NV, 12>(g, l, dyt, dyt_image, xp, col.data(), x_image, images, out);
    else if (rows == 4)
      weight_grad_block<NV, 4>(g, l, dyt, dyt_image, xp, col.data(), x_image, images, out);
    else
      weight_grad_block<NV, 1>(g, l, dyt, dyt_image, xp, col.data(), x_image, images, out);
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

bool shifted_conv_enabled() { return avx512_kernels(); }

bool shifted_conv_applies(const ConvGeom& g) { return shifted_conv_enabled() && g.stride == 1 && g.k <= kMaxK; }

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
  const auto off = tap_offsets(g, l, 1);
  for_each_chunk(g.n, 1, [&](int n, int, int) {
    const Scratch s = scratch_of(g, l, ws, thread_index());
    pad_image(g, l, x + n * in_image, s.xp);
    shifted_gemm(s.a_fwd, g.c_out, g.c_in, l.taps, off.data(), s.xp, l.x_plane, l.grid32, s.tile);
    float* yn = y + n * out_image;
    for (int c = 0; c < g.c_out; ++c) {
      const float bias = b ? b[c] : 0.0f;
      for (int r = 0; r < oh; ++r) {
        const float* from = s.tile + c * l.grid32 + static_cast<int64_t>(r) * l.wp;
        float* to = yn + (static_cast<int64_t>(c) * oh + r) * ow;
        for (int q = 0; q < ow; ++q) to[q] = from[q] + bias;
      }
    }
  });
}

void shifted_conv_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw,
                           float* db, float* ws) {
  const Layout l(g);
  const int64_t k = g.col_rows(), in_image = static_cast<int64_t>(g.c_in) * g.h * g.w;
  const int ohw = g.oh() * g.ow();
  const int64_t out_image = static_cast<int64_t>(g.c_out) * ohw;
  const Scratch shared = scratch_of(g, l, ws, 0);
  const int64_t back_k = static_cast<int64_t>(g.c_out) * l.taps;
  if (dx)
    pack_rows(
        g.c_in, back_k,
        [&](int ci, int64_t kk) { return w[(kk / l.taps * g.c_in + ci) * l.taps + kk % l.taps]; }, shared.a_dx);
  const auto fwd_off = tap_offsets(g, l, 1), back_off = tap_offsets(g, l, -1);
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
    for (int i = 0; i < images; ++i) {
      // dx's padded rows pad .. pad+H-1 from the grid read at pad*Wp + p - offset.
      const float* origin = s.dyp + i * g.c_out * l.dy_plane + l.dy_front + static_cast<int64_t>(g.pad) * l.wp;
      shifted_gemm(s.a_dx, g.c_in, g.c_out, l.taps, back_off.data(), origin, l.dy_plane, l.back32, s.tile);
      float* dxn = dx + (first + i) * in_image;
      for (int c = 0; c < g.c_in; ++c)
        for (int r = 0; r < g.h; ++r)
          copy(s.tile + c * l.back32 + static_cast<int64_t>(r) * l.wp + g.pad, g.w,
               dxn + (static_cast<int64_t>(c) * g.h + r) * g.w);
    }
  });
  const int chunks = chunk_count(g.n, l.images);
  const Partial p0 = partial_of(g, l, ws, 0);
  const int64_t stride = partial_floats(g, l);
  if (dw) add_partials(dw, g.c_out, k, p0.dw, 1, l.co16, stride, chunks);  // the partials hold dW transposed
  if (db) add_partials(db, 1, g.c_out, p0.db, 0, 1, stride, chunks);
}

}  // namespace cpu
