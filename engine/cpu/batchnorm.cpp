// CPU reference of batch normalisation (see engine/ops/batchnorm.h). The variance is two-pass (mean
// first, then squared deviations): a channel of the judge's first layer holds 64 * 24 * 24 = 36864
// values, enough for a one-pass E[x^2] - E[x]^2 in float to lose most of its digits.
//
// Every pass walks whole images, kSlices fixed slices of the batch spread over the pool: an image is one
// contiguous run of memory, where a channel is a few hundred floats every C*HW (LNTL's heads: 784 bytes
// every 75 KB), which the prefetchers follow badly. Each plane is summed in 16 float lanes (vec16.h),
// the plane sums added in double per slice, and the slices in order: the same bits at any thread count
// and on any x86-64 CPU. Channels go in groups whose data fit in half the L2 cache, each group's passes
// all done before the next group's, so the passes after the first read the cache, not memory (LNTL's
// heads: 9.6 MB per tensor); a group has at most kGroup channels, so its partial sums live on the stack.
#include "engine/ops/batchnorm.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

#include "engine/cpu/thread_pool.h"
#include "engine/cpu/vec16.h"

namespace cpu {

namespace {

constexpr int kGroup = 128;
constexpr int64_t kGroupBytes = 1 << 20;

// A channel group [c0, c1) of an n x c x hw tensor.
struct Group {
  int n, c, hw, c0, c1;
  int size() const { return c1 - c0; }
  int64_t plane(int64_t i, int ch) const { return (i * c + ch) * hw; }
};

// Visits a plane of hw floats 16 at a time, vec(p), then the last hw % 16 one at a time, one(p, k) with
// k the lane the value would have had (scalar tails, where a partial load or store would be a
// variable-length copy per plane).
template <class Vec, class One>
AMNESIA_VEC_INLINE void for_plane(int hw, const Vec& vec, const One& one) {
  int p = 0;
  for (; p + 16 <= hw; p += 16) vec(p);
  for (int k = 0; p < hw; ++p, ++k) one(p, k);
}

// sum over a plane x of term(x) in 16 lanes; term takes and returns a float or a 16-float vector.
template <class Term>
AMNESIA_VEC_INLINE float plane_total(const float* x, int hw, const Term& term) {
  f32x16 acc = {};
  for_plane(
      hw, [&](int p) AMNESIA_VEC_INLINE_LAMBDA { acc += term(load16(x + p)); },
      [&](int p, int k) AMNESIA_VEC_INLINE_LAMBDA { acc[k] += term(x[p]); });
  return lanes_total(acc);
}

// sums[ch - c0] = over images [i0, i1): the plane sums of x (mean null) or of (x - mean)^2.
AMNESIA_SIMD_CLONES void slice_sums(const float* x, const float* mean, const Group& g, int64_t i0, int64_t i1,
                                    double* sums) {
  for (int ch = 0; ch < g.size(); ++ch) sums[ch] = 0.0;
  for (int64_t i = i0; i < i1; ++i)
    for (int ch = g.c0; ch < g.c1; ++ch) {
      const float* xp = x + g.plane(i, ch);
      if (!mean) {
        sums[ch - g.c0] += plane_total(xp, g.hw, [](const auto& v) AMNESIA_VEC_INLINE_LAMBDA { return v; });
        continue;
      }
      const float m = mean[ch];
      sums[ch - g.c0] += plane_total(xp, g.hw, [m](const auto& v) AMNESIA_VEC_INLINE_LAMBDA {
        const auto d = v - m;
        return d * d;
      });
    }
}

// The backward's two sums per channel over images [i0, i1): of dy, and of dy * (x - mean) * invstd, in
// one pass over each plane.
AMNESIA_SIMD_CLONES void slice_dy_sums(const float* x, const float* dy, const float* mean, const float* invstd,
                                       const Group& g, int64_t i0, int64_t i1, double* sum_dy, double* sum_dy_xhat) {
  for (int ch = 0; ch < g.size(); ++ch) sum_dy[ch] = sum_dy_xhat[ch] = 0.0;
  for (int64_t i = i0; i < i1; ++i)
    for (int ch = g.c0; ch < g.c1; ++ch) {
      const float *xp = x + g.plane(i, ch), *gp = dy + g.plane(i, ch);
      const float m = mean[ch], s = invstd[ch];
      f32x16 acc_dy = {}, acc_dy_xhat = {};
      for_plane(
          g.hw,
          [&](int p) AMNESIA_VEC_INLINE_LAMBDA {
            const f32x16 d = load16(gp + p);
            acc_dy += d;
            acc_dy_xhat += d * ((load16(xp + p) - m) * s);
          },
          [&](int p, int k) AMNESIA_VEC_INLINE_LAMBDA {
            acc_dy[k] += gp[p];
            acc_dy_xhat[k] += gp[p] * ((xp[p] - m) * s);
          });
      sum_dy[ch - g.c0] += lanes_total(acc_dy);
      sum_dy_xhat[ch - g.c0] += lanes_total(acc_dy_xhat);
    }
}

// Over images [i0, i1), per channel: out = a * x + b (a, b indexed from c0), or with bwd given, the
// backward's out = a * (dy - b - xhat * e) with xhat = (x - mean) * invstd.
struct DxTerms {
  const float *dy, *mean, *invstd, *e;
};
AMNESIA_SIMD_CLONES void slice_apply(const float* x, const float* a, const float* b, const DxTerms* bwd, const Group& g,
                                     int64_t i0, int64_t i1, float* out) {
  for (int64_t i = i0; i < i1; ++i)
    for (int ch = g.c0; ch < g.c1; ++ch) {
      const int64_t base = g.plane(i, ch);
      const float *xp = x + base, *gp = bwd ? bwd->dy + base : nullptr;
      float* op = out + base;
      const float ak = a[ch - g.c0], bk = b[ch - g.c0];
      if (!bwd) {
        for_plane(
            g.hw, [&](int p) AMNESIA_VEC_INLINE_LAMBDA { store16(op + p, load16(xp + p) * ak + bk); },
            [&](int p, int) AMNESIA_VEC_INLINE_LAMBDA { op[p] = xp[p] * ak + bk; });
        continue;
      }
      const float m = bwd->mean[ch], s = bwd->invstd[ch], e = bwd->e[ch - g.c0];
      for_plane(
          g.hw,
          [&](int p) AMNESIA_VEC_INLINE_LAMBDA {
            store16(op + p, ak * (load16(gp + p) - bk - (load16(xp + p) - m) * s * e));
          },
          [&](int p, int) AMNESIA_VEC_INLINE_LAMBDA { op[p] = ak * (gp[p] - bk - (xp[p] - m) * s * e); });
    }
}

// Per channel of the group, sums over the whole batch: the slices' partials, added in slice order.
template <class Slice>
void batch_sums(const Group& g, int sums_per_channel, const Slice& slice, std::array<double, kGroup>* totals) {
  std::array<std::array<double, kGroup>, kSlices * 2> part;
  parallel_for(kSlices, [&](int s) {
    slice(part_begin(g.n, s, kSlices), part_begin(g.n, s + 1, kSlices), part[2 * s].data(), part[2 * s + 1].data());
  });
  for (int k = 0; k < sums_per_channel; ++k)
    for (int ch = 0; ch < g.size(); ++ch) {
      double t = 0.0;
      for (int s = 0; s < kSlices; ++s) t += part[2 * s + k][ch];
      totals[k][ch] = t;
    }
}

// body(images [i0, i1)) over the batch, split where there is enough to split (elementwise passes).
template <class Body>
void over_images(const Group& g, const Body& body) {
  const int64_t per_image = std::max<int64_t>(1, static_cast<int64_t>(g.size()) * g.hw);
  parallel_range(g.n, std::max<int64_t>(1, 16384 / per_image), body);
}

// body(group) for consecutive channel groups, `tensors` tensors of the group's size fitting kGroupBytes.
template <class Body>
void for_each_group(int n, int c, int hw, int tensors, const Body& body) {
  const int64_t channel_bytes = static_cast<int64_t>(n) * hw * sizeof(float) * tensors;
  const int64_t fit = kGroupBytes / std::max<int64_t>(channel_bytes, 1);
  const int size = static_cast<int>(std::clamp<int64_t>(fit, 1, kGroup));
  for (int c0 = 0; c0 < c; c0 += size) body(Group{n, c, hw, c0, std::min(c, c0 + size)});
}

}  // namespace

void batchnorm_fwd_train(const float* x, const float* gamma, const float* beta, int n, int c, int hw, float eps,
                         float momentum, float* y, float* save_mean, float* save_invstd, float* running_mean,
                         float* running_var) {
  const double m = static_cast<double>(n) * hw;
  for_each_group(n, c, hw, 1, [&](const Group& g) {
    std::array<double, kGroup> total[1];
    const auto channel_sums = [&](const float* mean) {  // of x, or of (x - mean)^2
      batch_sums(g, 1, [&](int64_t i0, int64_t i1, double* s, double*) { slice_sums(x, mean, g, i0, i1, s); }, total);
    };
    channel_sums(nullptr);
    for (int ch = g.c0; ch < g.c1; ++ch) save_mean[ch] = static_cast<float>(total[0][ch - g.c0] / m);
    channel_sums(save_mean);
    // y = x * scale + shift folds the four per-element operations into two.
    std::array<float, kGroup> scale, shift;
    for (int ch = g.c0; ch < g.c1; ++ch) {
      const double var = total[0][ch - g.c0] / m;
      const float invstd = static_cast<float>(1.0 / std::sqrt(var + eps)), mean = save_mean[ch];
      scale[ch - g.c0] = gamma[ch] * invstd;
      shift[ch - g.c0] = beta[ch] - mean * scale[ch - g.c0];
      save_invstd[ch] = invstd;
      if (running_mean) running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean;
      if (running_var) {
        const double unbiased = m > 1.0 ? var * m / (m - 1.0) : var;
        running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * static_cast<float>(unbiased);
      }
    }
    over_images(g, [&](int64_t i0, int64_t i1) { slice_apply(x, scale.data(), shift.data(), nullptr, g, i0, i1, y); });
  });
}

void batchnorm_fwd_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                        const float* running_var, int n, int c, int hw, float eps, float* y) {
  for_each_group(n, c, hw, 1, [&](const Group& g) {
    std::array<float, kGroup> scale, shift;
    for (int ch = g.c0; ch < g.c1; ++ch) {
      scale[ch - g.c0] = gamma[ch] / std::sqrt(running_var[ch] + eps);
      shift[ch - g.c0] = beta[ch] - running_mean[ch] * scale[ch - g.c0];
    }
    over_images(g, [&](int64_t i0, int64_t i1) { slice_apply(x, scale.data(), shift.data(), nullptr, g, i0, i1, y); });
  });
}

void batchnorm_bwd(const float* x, const float* dy, const float* gamma, const float* save_mean,
                   const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta) {
  const double m = static_cast<double>(n) * hw;
  for_each_group(n, c, hw, 2, [&](const Group& g) {
    std::array<double, kGroup> total[2];  // sum dy, sum dy * xhat
    batch_sums(
        g, 2,
        [&](int64_t i0, int64_t i1, double* s_dy, double* s_dy_xhat) {
          slice_dy_sums(x, dy, save_mean, save_invstd, g, i0, i1, s_dy, s_dy_xhat);
        },
        total);
    std::array<float, kGroup> k, mean_dy, mean_dy_xhat;
    for (int ch = g.c0; ch < g.c1; ++ch) {
      const int j = ch - g.c0;
      if (dbeta) dbeta[ch] += static_cast<float>(total[0][j]);
      if (dgamma) dgamma[ch] += static_cast<float>(total[1][j]);
      k[j] = gamma[ch] * save_invstd[ch];
      mean_dy[j] = static_cast<float>(total[0][j] / m);
      mean_dy_xhat[j] = static_cast<float>(total[1][j] / m);
    }
    if (!dx) return;
    const DxTerms terms{dy, save_mean, save_invstd, mean_dy_xhat.data()};
    over_images(g, [&](int64_t i0, int64_t i1) { slice_apply(x, k.data(), mean_dy.data(), &terms, g, i0, i1, dx); });
  });
}

}  // namespace cpu
