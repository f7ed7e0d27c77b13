#include "engine/cpu/conv_chunks.h"

#include <algorithm>
#include <cstring>

#include "engine/cpu/lane_sum.h"
#include "engine/cpu/thread_pool.h"

namespace cpu {

namespace {

// A chunk's column matrix is kept near this many floats (512 KB): well inside L2 beside the GEMM's own
// packed panels, and wide enough (N = images * OH * OW columns) for an efficient GEMM.
constexpr int64_t kChunkFloats = 128 * 1024;

// For a stride-1 "same" convolution the data gradient is itself a same convolution of dy, with the
// kernel flipped and its in/out channels swapped: im2col of dy + one GEMM, no col2im scatter. Its GEMM
// has K = C_out*k*k instead of C_out (8 for LNTL's colour heads), which suits the BLAS kernel far better;
// with few input channels the M = C_in side gets too thin, so those keep the col2im path, and so do
// convolutions that widen (C_out > C_in), whose dy columns would be C_out/C_in times the x columns
// (LNTL's h, 32 -> 96 channels: dx 25 % faster through col2im, min of 300 chunks, 1 thread).
bool dx_by_flipped_conv(const ConvGeom& g) {
  return g.stride == 1 && g.ow() == g.w && g.c_in >= 8 && g.c_out <= g.c_in;
}
ConvGeom flipped(const ConvGeom& g, int images) {
  return ConvGeom{images, g.c_out, g.oh(), g.ow(), g.c_in, g.k, 1, g.k - 1 - g.pad};
}
// wf [C_in, C_out, k, k] = w [C_out, C_in, k, k] with its channels swapped and each k x k kernel rotated.
void flip_kernel(const ConvGeom& g, const float* w, float* wf) {
  const int kk = g.k * g.k;
  for (int o = 0; o < g.c_out; ++o)
    for (int i = 0; i < g.c_in; ++i)
      for (int t = 0; t < kk; ++t)
        wf[(static_cast<int64_t>(i) * g.c_out + o) * kk + (kk - 1 - t)] =
            w[(static_cast<int64_t>(o) * g.c_in + i) * kk + t];
}

int64_t wider_channels(const ConvGeom& g) { return std::max(g.c_in, g.c_out); }

int chunk_images(const ConvGeom& g) {
  const int64_t per_image = wider_channels(g) * g.k * g.k * g.oh() * g.ow();
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(g.n, kChunkFloats / std::max<int64_t>(1, per_image))));
}

// Per thread: a chunk's columns and channel-major tile (sized for either direction, so the flipped
// data-gradient convolution fits too). Per backward chunk: its dW (transposed, C_in*k*k x C_out) and db
// partials. Then the flipped kernel.
struct ThreadScratch {
  float *col, *tile;
};
struct Partial {
  float *dw, *db;
};
int64_t chunk_cols(const ConvGeom& g) { return static_cast<int64_t>(chunk_images(g)) * g.oh() * g.ow(); }
int64_t thread_floats(const ConvGeom& g) { return wider_channels(g) * (g.k * g.k + 1) * chunk_cols(g); }
int64_t partial_floats(const ConvGeom& g) { return g.c_out * g.col_rows() + g.c_out; }
int chunks(const ConvGeom& g) { return chunk_count(g.n, chunk_images(g)); }
ThreadScratch thread_scratch(const ConvGeom& g, float* ws, int thread) {
  float* col = ws + thread * thread_floats(g);
  return ThreadScratch{col, col + wider_channels(g) * g.k * g.k * chunk_cols(g)};
}
Partial partial_of(const ConvGeom& g, float* ws, int chunk) {
  float* dw = ws + threads() * thread_floats(g) + chunk * partial_floats(g);
  return Partial{dw, dw + g.c_out * g.col_rows()};
}
float* flipped_kernel_scratch(const ConvGeom& g, float* ws) {
  return ws + threads() * thread_floats(g) + chunks(g) * partial_floats(g);
}

ConvGeom with_images(ConvGeom g, int n) {
  g.n = n;
  return g;
}

}  // namespace

int64_t conv_chunks_workspace(const ConvGeom& g) {
  return threads() * thread_floats(g) + chunks(g) * partial_floats(g) + g.c_out * g.col_rows();
}

void conv_chunks_forward(const ConvGeom& g, const float* x, const float* w, const float* b, float* y, float* ws) {
  const int rows = static_cast<int>(g.col_rows()), ohw = g.oh() * g.ow();
  const int64_t in_image = static_cast<int64_t>(g.c_in) * g.h * g.w, out_image = static_cast<int64_t>(g.c_out) * ohw;
  for_each_chunk(g.n, chunk_images(g), [&](int first, int images, int) {
    const ThreadScratch s = thread_scratch(g, ws, thread_index());
    const ConvGeom c = with_images(g, images);
    im2col(x + first * in_image, c, s.col);
    gemm(false, false, g.c_out, images * ohw, rows, 1.0f, w, s.col, 0.0f, s.tile);
    cnhw_to_nchw(s.tile, b, images, g.c_out, ohw, y + first * out_image);
  });
}

void conv_chunks_backward(const ConvGeom& g, const float* x, const float* w, const float* dy, float* dx, float* dw,
                          float* db, float* ws) {
  const int rows = static_cast<int>(g.col_rows()), ohw = g.oh() * g.ow();
  const int64_t in_image = static_cast<int64_t>(g.c_in) * g.h * g.w, out_image = static_cast<int64_t>(g.c_out) * ohw;
  const bool flip = dx && dx_by_flipped_conv(g);
  float* wf = flipped_kernel_scratch(g, ws);
  if (flip) flip_kernel(g, w, wf);
  for_each_chunk(g.n, chunk_images(g), [&](int first, int images, int chunk) {
    const ThreadScratch s = thread_scratch(g, ws, thread_index());
    const Partial part = partial_of(g, ws, chunk);
    const ConvGeom c = with_images(g, images);
    const int cols = images * ohw;
    nchw_to_cnhw(dy + first * out_image, images, g.c_out, ohw, s.tile);
    if (dw) {
      im2col(x + first * in_image, c, s.col);
      // dW^T [rows, C_out] = col . dT^T: the same product as dT . col^T, laid out so the GEMM's long
      // side is the C_in*k*k one (OpenBLAS ran it 1.2-1.5x faster on the studies' shapes).
      gemm(false, true, rows, g.c_out, cols, 1.0f, s.col, s.tile, 0.0f, part.dw);
    }
    if (db) {
      std::memset(part.db, 0, sizeof(float) * g.c_out);
      row_sums_add(s.tile, g.c_out, cols, part.db);
    }
    if (flip) {
      const ConvGeom f = flipped(g, images);
      im2col(dy + first * out_image, f, s.col);
      gemm(false, false, g.c_in, cols, static_cast<int>(f.col_rows()), 1.0f, wf, s.col, 0.0f, s.tile);
      cnhw_to_nchw(s.tile, nullptr, images, g.c_in, ohw, dx + first * in_image);
    } else if (dx) {
      gemm(true, false, rows, cols, g.c_out, 1.0f, w, s.tile, 0.0f, s.col);
      col2im(s.col, c, dx + first * in_image);
    }
  });
  const Partial p0 = partial_of(g, ws, 0);
  // The dW partials hold dW transposed (C_in*k*k x C_out).
  if (dw) add_partials(dw, g.c_out, rows, p0.dw, 1, g.c_out, partial_floats(g), chunks(g));
  if (db) add_partials(db, 1, g.c_out, p0.db, 0, 1, partial_floats(g), chunks(g));
}

void add_channel_bias(float* y, const float* b, int n, int c, int hw) {
  parallel_for(n, [&](int i) {
    for (int j = 0; j < c; ++j) {
      float* p = y + (static_cast<int64_t>(i) * c + j) * hw;
      for (int q = 0; q < hw; ++q) p[q] += b[j];
    }
  });
}

void channel_sums_add(const float* y, int n, int c, int hw, float* out, float* ws) {
  parallel_for(kSlices, [&](int s) {
    float* partial = ws + static_cast<int64_t>(s) * c;
    for (int j = 0; j < c; ++j) {
      double sum = 0.0;
      for (int64_t i = part_begin(n, s, kSlices); i < part_begin(n, s + 1, kSlices); ++i)
        sum += lane_sum(y + (i * c + j) * hw, hw);
      partial[j] = static_cast<float>(sum);
    }
  });
  add_partials(out, 1, c, ws, 0, 1, c, kSlices);
}

}  // namespace cpu
