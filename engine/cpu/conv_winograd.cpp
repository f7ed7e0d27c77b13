// Winograd F(2x2, 3x3) convolutions (see conv_winograd.h for the method).
#include "engine/cpu/conv_winograd.h"

#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/cpu/conv_shifted.h"
#include "engine/cpu/shifted_gemm.h"
#include "engine/cpu/thread_pool.h"

#define AMNESIA_AVX512 __attribute__((target("avx512f")))

namespace cpu {

namespace {

constexpr int kElems = 16;  // the transformed domain, 4 x 4
constexpr int kMaxSide = 30;  // the widest map: its 15 tiles' input pixels, 2 tx - 1 .. 2 tx + 2, in 2 registers
constexpr int kMinChannels = 16;  // LNTL's 32 -> 8 head layer ran 0.7x of the shifted path either way
// A chunk's U and M (transformed inputs, products) are kept near this many floats (768 KB), so the 16
// GEMMs find them in L2; but a chunk takes more images while the GEMMs' columns, rounded up to the
// kernel's 32, would be over 10 % padding (one 14 x 14 image is 49 tiles: 64 columns).
// (bench_conv on LNTL's layers: 192 K floats 1.03-1.08x faster than 384 K for 32 and 64 channels,
// 384 K 1.1x faster for the 32 -> 96 layer, where 192 K meant one image per chunk.)
constexpr int64_t kChunkFloats = 192 * 1024;
constexpr double kMaxPadding = 1.1;

// One direction of a convolution: `in` maps of h x w per image to `out` maps of h x w, chunked by images.
struct Plan {
  int n, in, out, h, w, th, tw, rows4, images;
  int64_t t32;  // a chunk's tile columns (images * th * tw), rounded up for the GEMM kernel
  Plan(int n_, int in_, int out_, int h_, int w_) : n(n_), in(in_), out(out_), h(h_), w(w_) {
    th = (h + 1) / 2, tw = (w + 1) / 2;
    rows4 = static_cast<int>(round_up(out, 4));
    const int64_t per_image = static_cast<int64_t>(kElems) * (in + rows4) * th * tw;
    images = static_cast<int>(std::clamp<int64_t>(kChunkFloats / per_image, 1, n));
    const auto columns = [&](int i) { return round_up(static_cast<int64_t>(i) * th * tw, kShiftedBlock); };
    while (images < n && static_cast<double>(columns(images)) > kMaxPadding * images * th * tw) ++images;
    t32 = columns(images);
  }
  int64_t tiles() const { return static_cast<int64_t>(th) * tw; }
  int64_t packed() const { return packed_floats(out, in); }
  int64_t u_floats() const { return static_cast<int64_t>(kElems) * in * t32; }
  int64_t thread_floats() const { return u_floats() + static_cast<int64_t>(kElems) * rows4 * t32; }
  // The 16 packed V_e, then V itself ([out][in][16]) while it is built.
  int64_t shared_floats() const { return kElems * packed() + static_cast<int64_t>(out) * in * kElems; }
  int64_t workspace() const { return shared_floats() + threads() * thread_floats(); }
};

// V = G g G^T for every (o, c), then each element e packed as the GEMMs' A operand.
template <class Weight>
void transform_weights(const Plan& p, const Weight& weight, float* packed, float* full) {
  for (int o = 0; o < p.out; ++o)
    for (int c = 0; c < p.in; ++c) {
      float g[3][3], t[4][3];
      for (int ki = 0; ki < 3; ++ki)
        for (int kj = 0; kj < 3; ++kj) g[ki][kj] = weight(o, c, ki, kj);
      for (int j = 0; j < 3; ++j) {
        t[0][j] = g[0][j];
        t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
        t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
        t[3][j] = g[2][j];
      }
      float* v = full + (static_cast<int64_t>(o) * p.in + c) * kElems;
      for (int i = 0; i < 4; ++i) {
        v[i * 4 + 0] = t[i][0];
        v[i * 4 + 1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
        v[i * 4 + 2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
        v[i * 4 + 3] = t[i][2];
      }
    }
  for (int e = 0; e < kElems; ++e)
    pack_rows(
        p.out, p.in, [&](int o, int64_t c) { return full[(static_cast<int64_t>(o) * p.in + c) * kElems + e]; },
        packed + e * p.packed());
}

// Where a row of tiles reads an input row: lane tx of view j is padded pixel 2 tx + j, i.e. input pixel
// 2 tx + j - 1 (zero outside the row and past the last tile).
struct RowViews {
  alignas(64) int idx[4][kLanes];
  __mmask16 valid[4] = {}, load_lo = 0, load_hi = 0;
  RowViews(int w, int tw) {
    load_lo = first_lanes(w), load_hi = first_lanes(w - kLanes);
    for (int j = 0; j < 4; ++j)
      for (int tx = 0; tx < kLanes; ++tx) {
        const int src = 2 * tx + j - 1;
        idx[j][tx] = std::max(src, 0);
        if (tx < tw && src >= 0 && src < w) valid[j] = static_cast<__mmask16>(valid[j] | (1u << tx));
      }
  }
};

// One image's U columns: for each channel and row of tiles, the 4 input rows of its patches, each turned
// into its four 1-D transforms (d0 - d2, d1 + d2, d2 - d1, d1 - d3) across the row of tiles, then the
// same down the 4 rows; element e = 4 * (row transform) + (column transform).
AMNESIA_AVX512 void transform_input_image(const Plan& p, const RowViews& rv, const float* x, float* u, int64_t tile0) {
  __m512i idx[4];
  for (int j = 0; j < 4; ++j) idx[j] = _mm512_load_si512(rv.idx[j]);
  const __mmask16 row_of_tiles = first_lanes(p.tw);
  const int64_t e_stride = p.t32;
  for (int c = 0; c < p.in; ++c) {
    const float* xc = x + static_cast<int64_t>(c) * p.h * p.w;
    for (int ty = 0; ty < p.th; ++ty) {
      __m512 r[4][4];
      for (int j = 0; j < 4; ++j) {
        const int row = 2 * ty + j - 1;
        if (row < 0 || row >= p.h) {
          for (int k = 0; k < 4; ++k) r[j][k] = _mm512_setzero_ps();
          continue;
        }
        const float* xr = xc + static_cast<int64_t>(row) * p.w;
        const __m512 lo = _mm512_maskz_loadu_ps(rv.load_lo, xr);
        const __m512 hi = rv.load_hi ? _mm512_maskz_loadu_ps(rv.load_hi, xr + kLanes) : _mm512_setzero_ps();
        __m512 d[4];
        for (int v = 0; v < 4; ++v) d[v] = _mm512_maskz_permutex2var_ps(rv.valid[v], lo, idx[v], hi);
        r[j][0] = _mm512_sub_ps(d[0], d[2]);
        r[j][1] = _mm512_add_ps(d[1], d[2]);
        r[j][2] = _mm512_sub_ps(d[2], d[1]);
        r[j][3] = _mm512_sub_ps(d[1], d[3]);
      }
      float* dst = u + static_cast<int64_t>(c) * kElems * p.t32 + tile0 + static_cast<int64_t>(ty) * p.tw;
      for (int k = 0; k < 4; ++k) {
        _mm512_mask_storeu_ps(dst + (0 + k) * e_stride, row_of_tiles, _mm512_sub_ps(r[0][k], r[2][k]));
        _mm512_mask_storeu_ps(dst + (4 + k) * e_stride, row_of_tiles, _mm512_add_ps(r[1][k], r[2][k]));
        _mm512_mask_storeu_ps(dst + (8 + k) * e_stride, row_of_tiles, _mm512_sub_ps(r[2][k], r[1][k]));
        _mm512_mask_storeu_ps(dst + (12 + k) * e_stride, row_of_tiles, _mm512_sub_ps(r[1][k], r[3][k]));
      }
    }
  }
}

// Output pixel q of a row is tile q / 2's even (q even) or odd output: the two per-tile vectors
// interleaved, pixels 0-15 and 16-29 each by one permute.
struct RowJoin {
  alignas(64) int idx[2][kLanes];
  __mmask16 store[2] = {};
  explicit RowJoin(int w) {
    for (int half = 0; half < 2; ++half) {
      for (int q = 0; q < kLanes; ++q) idx[half][q] = (half * kLanes + q) / 2 | (q % 2) * kLanes;
      store[half] = first_lanes(w - half * kLanes);
    }
  }
};

// One image's outputs from M: per output map and row of tiles, Y = A^T M A on the 16 element vectors
// (sums down the rows first, then across), plus the bias.
AMNESIA_AVX512 void transform_output_image(const Plan& p, const RowJoin& rj, const float* m, int64_t tile0,
                                           const float* bias, float* y) {
  const __m512i join[2] = {_mm512_load_si512(rj.idx[0]), _mm512_load_si512(rj.idx[1])};
  const __mmask16 row_of_tiles = first_lanes(p.tw);
  const int64_t e_stride = p.t32;
  for (int o = 0; o < p.out; ++o) {
    const __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
    for (int ty = 0; ty < p.th; ++ty) {
      const float* src = m + static_cast<int64_t>(o) * kElems * p.t32 + tile0 + static_cast<int64_t>(ty) * p.tw;
      __m512 mm[kElems];
      for (int e = 0; e < kElems; ++e) mm[e] = _mm512_maskz_loadu_ps(row_of_tiles, src + e * e_stride);
      __m512 s[2][4];
      for (int k = 0; k < 4; ++k) {
        s[0][k] = _mm512_add_ps(_mm512_add_ps(mm[k], mm[4 + k]), mm[8 + k]);
        s[1][k] = _mm512_sub_ps(_mm512_sub_ps(mm[4 + k], mm[8 + k]), mm[12 + k]);
      }
      for (int a = 0; a < 2 && 2 * ty + a < p.h; ++a) {
        const __m512 even = _mm512_add_ps(_mm512_add_ps(s[a][0], s[a][1]), s[a][2]);
        const __m512 odd = _mm512_sub_ps(_mm512_sub_ps(s[a][1], s[a][2]), s[a][3]);
        float* dst = y + (static_cast<int64_t>(o) * p.h + 2 * ty + a) * p.w;
        for (int half = 0; half < 2; ++half)
          if (rj.store[half])
            _mm512_mask_storeu_ps(dst + half * kLanes, rj.store[half],
                                  _mm512_add_ps(_mm512_permutex2var_ps(even, join[half], odd), b));
      }
    }
  }
}

template <class Weight>
void winograd_run(const Plan& p, const Weight& weight, const float* x, const float* bias, float* y, float* ws) {
  float* packed = ws;
  transform_weights(p, weight, packed, ws + kElems * p.packed());
  const RowViews rv(p.w, p.tw);
  const RowJoin rj(p.w);
  const int64_t in_image = static_cast<int64_t>(p.in) * p.h * p.w, out_image = static_cast<int64_t>(p.out) * p.h * p.w;
  const int zero_offset = 0;
  for_each_chunk(p.n, p.images, [&](int first, int images, int) {
    float* u = ws + p.shared_floats() + thread_index() * p.thread_floats();
    float* m = u + p.u_floats();
    for (int i = 0; i < images; ++i) transform_input_image(p, rv, x + (first + i) * in_image, u, i * p.tiles());
    // The GEMMs' columns past the chunk's tiles: zeros rather than stale values (which could be NaN).
    const int64_t used = images * p.tiles();
    for (int64_t row = 0; row < static_cast<int64_t>(kElems) * p.in; ++row)
      std::memset(u + row * p.t32 + used, 0, sizeof(float) * (p.t32 - used));
    for (int e = 0; e < kElems; ++e)
      shifted_gemm(packed + e * p.packed(), p.out, p.in, 1, &zero_offset, u + e * p.t32, kElems * p.t32, p.t32,
                   m + e * p.t32, kElems * p.t32);
    for (int i = 0; i < images; ++i)
      transform_output_image(p, rj, m, i * p.tiles(), bias, y + (first + i) * out_image);
  });
}

}  // namespace

bool winograd_conv_applies(const ConvGeom& g) {
  static const bool off = [] {
    const char* v = std::getenv("AMNESIA_WINOGRAD");
    return v && std::string(v) == "off";
  }();
  return !off && shifted_conv_enabled() && g.k == 3 && g.stride == 1 && g.pad == 1 && g.w <= kMaxSide &&
         g.c_in >= kMinChannels && g.c_out >= kMinChannels;
}

int64_t winograd_conv_workspace(const ConvGeom& g) {
  return std::max(Plan(g.n, g.c_in, g.c_out, g.h, g.w).workspace(), Plan(g.n, g.c_out, g.c_in, g.h, g.w).workspace());
}

void winograd_conv_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws) {
  const auto weight = [&](int o, int c, int ki, int kj) {
    return w[((static_cast<int64_t>(o) * g.c_in + c) * 3 + ki) * 3 + kj];
  };
  winograd_run(Plan(g.n, g.c_in, g.c_out, g.h, g.w), weight, x, b, y, ws);
}

void winograd_conv_input_grad(const ConvGeom& g, const float* w, const float* dy, float* dx, float* ws) {
  // Output map o of this pass is input channel o of the convolution; its filter over dy's map c is
  // w[c][o] turned by 180 degrees.
  const auto weight = [&](int o, int c, int ki, int kj) {
    return w[((static_cast<int64_t>(c) * g.c_in + o) * 3 + 2 - ki) * 3 + 2 - kj];
  };
  winograd_run(Plan(g.n, g.c_out, g.c_in, g.h, g.w), weight, dy, nullptr, dx, ws);
}

}  // namespace cpu
