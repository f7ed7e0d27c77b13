// Max / average pooling on the GPU. Forward: one thread per output. Backward: one thread per INPUT
// pixel that gathers from the (few) windows covering it, instead of scattering from each output with
// atomics, so overlapping windows (k > stride, e.g. 3x3 stride 2) still give a deterministic sum, in
// the same order as the CPU reference.
#include <cmath>

#include "engine/ops/pool.h"
#include "kernels/cuda_common.cuh"

namespace {

__device__ inline int floor_div(int a, int b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Outputs o in [lo, hi] whose window [o*s - pad, o*s - pad + k) contains input coordinate v.
__device__ inline void covering(int v, int out, PoolGeom g, int& lo, int& hi) {
  lo = max(0, floor_div(v + g.pad - g.k, g.stride) + 1);
  hi = min(out - 1, floor_div(v + g.pad, g.stride));
}

template <bool kMax>
__global__ void pool_fwd_kernel(const float* x, PoolGeom g, int oh, int ow, int64_t total, float* y, int* argmax) {
  GRID_STRIDE(i, total) {
    const int ox = static_cast<int>(i % ow), oy = static_cast<int>((i / ow) % oh);
    const float* src = x + (i / (static_cast<int64_t>(oh) * ow)) * g.h * g.w;
    const int y0 = max(0, oy * g.stride - g.pad), y1 = min(g.h, oy * g.stride - g.pad + g.k);
    const int x0 = max(0, ox * g.stride - g.pad), x1 = min(g.w, ox * g.stride - g.pad + g.k);
    float acc = kMax ? -INFINITY : 0.0f;  // padding counts as -inf for the max
    int at = y0 * g.w + x0;
    for (int iy = y0; iy < y1; ++iy)
      for (int ix = x0; ix < x1; ++ix) {
        const float v = src[iy * g.w + ix];
        if (kMax) {
          if (v > acc) {
            acc = v;
            at = iy * g.w + ix;
          }
        } else {
          acc += v;
        }
      }
    if (kMax) {
      y[i] = acc;
      if (argmax) argmax[i] = at;
    } else {
      y[i] = acc / static_cast<float>(g.k * g.k);
    }
  }
}

template <bool kMax>
__global__ void pool_bwd_kernel(const float* dy, const int* argmax, PoolGeom g, int oh, int ow, int64_t total,
                                float* dx) {
  GRID_STRIDE(i, total) {
    const int x = static_cast<int>(i % g.w), y = static_cast<int>((i / g.w) % g.h);
    const int64_t base = (i / (static_cast<int64_t>(g.h) * g.w)) * oh * ow;
    int oy0, oy1, ox0, ox1;
    covering(y, oh, g, oy0, oy1);
    covering(x, ow, g, ox0, ox1);
    const int me = y * g.w + x;
    const float inv = 1.0f / static_cast<float>(g.k * g.k);
    float sum = 0.0f;
    for (int oy = oy0; oy <= oy1; ++oy)
      for (int ox = ox0; ox <= ox1; ++ox) {
        const int64_t o = base + oy * ow + ox;
        if (kMax) {
          if (argmax[o] == me) sum += dy[o];
        } else {
          sum += dy[o] * inv;
        }
      }
    dx[i] = sum;
  }
}

template <bool kMax>
void launch_fwd(const float* x, const PoolGeom& g, float* y, int* argmax) {
  const int oh = g.oh(), ow = g.ow();
  const int64_t total = static_cast<int64_t>(g.n) * g.c * oh * ow;
  if (total <= 0) return;
  pool_fwd_kernel<kMax><<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(x, g, oh, ow, total, y, argmax);
  CUDA_LAUNCH_CHECK();
}

template <bool kMax>
void launch_bwd(const float* dy, const int* argmax, const PoolGeom& g, float* dx) {
  const int64_t total = static_cast<int64_t>(g.n) * g.c * g.h * g.w;
  if (total <= 0) return;
  pool_bwd_kernel<kMax><<<grid_for(total, kBlock), kBlock, 0, cuda::stream()>>>(dy, argmax, g, g.oh(), g.ow(), total, dx);
  CUDA_LAUNCH_CHECK();
}

}  // namespace

namespace cuda {

void maxpool_fwd(const float* x, PoolGeom g, float* y, int* argmax) { launch_fwd<true>(x, g, y, argmax); }
void maxpool_bwd(const float* dy, const int* argmax, PoolGeom g, float* dx) { launch_bwd<true>(dy, argmax, g, dx); }
void avgpool_fwd(const float* x, PoolGeom g, float* y) { launch_fwd<false>(x, g, y, nullptr); }
void avgpool_bwd(const float* dy, PoolGeom g, float* dx) { launch_bwd<false>(dy, nullptr, g, dx); }

}  // namespace cuda
