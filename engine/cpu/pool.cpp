// CPU reference of max / average pooling (see engine/ops/pool.h).
#include "engine/ops/pool.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>

#include "engine/cpu/thread_pool.h"

namespace cpu {

namespace {
// Planes are independent: each pass splits them over the pool, at least this many per part.
constexpr int64_t kMinPlanes = 64;

// The input rows (or columns) a pooling window at output position o covers, clipped to [0, size).
int window_start(int o, const PoolGeom& g) { return std::max(0, o * g.stride - g.pad); }
int window_end(int o, const PoolGeom& g, int size) { return std::min(size, o * g.stride - g.pad + g.k); }
}  // namespace

void maxpool_fwd(const float* x, PoolGeom g, float* y, int* argmax) {
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
  parallel_range(planes, kMinPlanes, [&](int64_t p0, int64_t p1) {
    std::memset(dx + p0 * in_plane, 0, sizeof(float) * (p1 - p0) * in_plane);
    for (int64_t pl = p0; pl < p1; ++pl)
      for (int64_t o = 0; o < out_plane; ++o) dx[pl * in_plane + argmax[pl * out_plane + o]] += dy[pl * out_plane + o];
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
    std::memset(dx + p0 * in_plane, 0, sizeof(float) * (p1 - p0) * in_plane);
    for (int64_t pl = p0; pl < p1; ++pl) {
      float* dst = dx + pl * in_plane;
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
