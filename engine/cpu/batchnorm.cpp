// CPU reference of batch normalisation (see engine/ops/batchnorm.h). The variance is two-pass (mean
// first, then squared deviations): a channel of the judge's first layer holds 64 * 24 * 24 = 36864
// values, enough for a one-pass E[x^2] - E[x]^2 in float to lose most of its digits. Each plane is
// summed in vectorisable float lanes and the plane sums are added in double.
#include "engine/ops/batchnorm.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "engine/cpu/lane_sum.h"
#include "engine/cpu/thread_pool.h"

namespace cpu {

namespace {
// Visits the n planes (hw contiguous values each) of channel ch.
template <typename F>
inline void for_channel(int n, int c, int hw, int ch, F&& f) {
  for (int i = 0; i < n; ++i) f((static_cast<int64_t>(i) * c + ch) * hw);
}

// Channels are independent, so they split over the pool with every channel's arithmetic unchanged;
// body(ch) for each, at least ~16k values per part.
template <typename F>
inline void for_each_channel(int n, int c, int hw, F&& body) {
  const int64_t per_channel = std::max<int64_t>(1, static_cast<int64_t>(n) * hw);
  parallel_range(c, std::max<int64_t>(1, 16384 / per_channel), [&](int64_t c0, int64_t c1) {
    for (int64_t ch = c0; ch < c1; ++ch) body(static_cast<int>(ch));
  });
}
}  // namespace

void batchnorm_fwd_train(const float* x, const float* gamma, const float* beta, int n, int c, int hw, float eps,
                         float momentum, float* y, float* save_mean, float* save_invstd, float* running_mean,
                         float* running_var) {
  const double m = static_cast<double>(n) * hw;
  for_each_channel(n, c, hw, [&](int ch) {
    double sum = 0.0;
    for_channel(n, c, hw, ch, [&](int64_t base) { sum += lane_sum(x + base, hw); });
    const float mean_f = static_cast<float>(sum / m);
    double sq = 0.0;
    for_channel(n, c, hw, ch, [&](int64_t base) {
      const float* xp = x + base;
      sq += lane_sum(hw, [xp, mean_f](int64_t p) {
        const float d = xp[p] - mean_f;
        return d * d;
      });
    });
    const double var = sq / m;
    const float invstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    // y = x * scale + shift folds the four per-element operations into two.
    const float scale = gamma[ch] * invstd, shift = beta[ch] - mean_f * scale;
    for_channel(n, c, hw, ch, [&](int64_t base) {
      for (int p = 0; p < hw; ++p) y[base + p] = x[base + p] * scale + shift;
    });
    save_mean[ch] = mean_f;
    save_invstd[ch] = invstd;
    if (running_mean) running_mean[ch] = (1.0f - momentum) * running_mean[ch] + momentum * mean_f;
    if (running_var) {
      const double unbiased = m > 1.0 ? var * m / (m - 1.0) : var;
      running_var[ch] = (1.0f - momentum) * running_var[ch] + momentum * static_cast<float>(unbiased);
    }
  });
}

void batchnorm_fwd_eval(const float* x, const float* gamma, const float* beta, const float* running_mean,
                        const float* running_var, int n, int c, int hw, float eps, float* y) {
  for_each_channel(n, c, hw, [&](int ch) {
    const float scale = gamma[ch] / std::sqrt(running_var[ch] + eps), shift = beta[ch] - running_mean[ch] * scale;
    for_channel(n, c, hw, ch, [&](int64_t base) {
      for (int p = 0; p < hw; ++p) y[base + p] = x[base + p] * scale + shift;
    });
  });
}

void batchnorm_bwd(const float* x, const float* dy, const float* gamma, const float* save_mean,
                   const float* save_invstd, int n, int c, int hw, float* dx, float* dgamma, float* dbeta) {
  const double m = static_cast<double>(n) * hw;
  for_each_channel(n, c, hw, [&](int ch) {
    const float mean = save_mean[ch], invstd = save_invstd[ch];
    double sum_dy = 0.0, sum_dy_xhat = 0.0;
    for_channel(n, c, hw, ch, [&](int64_t base) {
      const float *xp = x + base, *gp = dy + base;
      sum_dy += lane_sum(gp, hw);
      sum_dy_xhat += lane_sum(hw, [xp, gp, mean, invstd](int64_t p) { return gp[p] * ((xp[p] - mean) * invstd); });
    });
    if (dbeta) dbeta[ch] += static_cast<float>(sum_dy);
    if (dgamma) dgamma[ch] += static_cast<float>(sum_dy_xhat);
    if (!dx) return;
    const float k = gamma[ch] * invstd;
    const float mean_dy = static_cast<float>(sum_dy / m), mean_dy_xhat = static_cast<float>(sum_dy_xhat / m);
    for_channel(n, c, hw, ch, [&](int64_t base) {
      for (int p = 0; p < hw; ++p) {
        const float xhat = (x[base + p] - mean) * invstd;
        dx[base + p] = k * (dy[base + p] - mean_dy - xhat * mean_dy_xhat);
      }
    });
  });
}

}  // namespace cpu
