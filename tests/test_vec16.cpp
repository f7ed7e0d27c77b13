// The sixteen-wide elementwise maths (engine/cpu/vec16.h) against double-precision libm, and the ops
// built on it (BCE from logits, Adam) against direct formulas, on lengths with and without ragged tails.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "engine/cpu/vec16.h"
#include "engine/ops/adam.h"
#include "engine/ops/bce_logits.h"

namespace {

// Largest relative error of f16 against the double reference over xs. f16 stores its 16 results
// (no 64-byte vector is passed by value across a call: its ABI would depend on the target).
template <class F16, class Ref>
double max_rel_error(const std::vector<float>& xs, F16 f16, Ref ref) {
  double worst = 0.0;
  for (size_t i = 0; i < xs.size(); i += 16) {
    const int n = static_cast<int>(std::min<size_t>(16, xs.size() - i));
    float y[16];
    f16(cpu::load_first(xs.data() + i, n), y);
    for (int k = 0; k < n; ++k) {
      const double want = ref(static_cast<double>(xs[i + k]));
      if (want != 0.0) worst = std::max(worst, std::fabs(y[k] - want) / std::fabs(want));
      else worst = std::max(worst, std::fabs(static_cast<double>(y[k])));
    }
  }
  return worst;
}

constexpr double kTwoUlp = 2.0 * 5.960464477539063e-08;  // 2 * 2^-24

}  // namespace

TEST_CASE("exp16: within 2 ulp of exp over the whole normal range, clamped outside it") {
  std::vector<float> xs;
  for (int i = 0; i <= 200000; ++i) xs.push_back(-87.0f + 175.0f * static_cast<float>(i) / 200000.0f);
  for (float x : {0.0f, -0.0f, 1e-30f, -1e-30f, 0.34657359f, -0.34657359f, 1.0f, -1.0f, 88.0f, -87.0f}) xs.push_back(x);
  CHECK(max_rel_error(xs, [](const cpu::f32x16& x, float* y) { cpu::store16(y, cpu::exp16(x)); }, [](double x) { return std::exp(x); }) <=
        kTwoUlp);

  const cpu::f32x16 outside = cpu::exp16(cpu::f32x16{-1000.0f, -88.0f, 89.0f, 1000.0f});
  CHECK(outside[0] == cpu::exp16(cpu::splat16(-87.0f))[0]);
  CHECK(outside[0] > 0.0f);
  CHECK(std::isfinite(outside[3]));
  CHECK(outside[3] == cpu::exp16(cpu::splat16(88.0f))[0]);
}

TEST_CASE("log1p16_unit: within 4 ulp of log1p on [0, 1], tiny arguments included") {
  std::vector<float> ys;
  for (int i = 0; i <= 100000; ++i) ys.push_back(static_cast<float>(i) / 100000.0f);
  for (int e = -38; e < 0; ++e) ys.push_back(std::pow(10.0f, static_cast<float>(e)));
  CHECK(max_rel_error(ys, [](const cpu::f32x16& x, float* y) { cpu::store16(y, cpu::log1p16_unit(x)); }, [](double y) { return std::log1p(y); }) <=
        2 * kTwoUlp);
  CHECK(cpu::log1p16_unit(cpu::f32x16{})[0] == 0.0f);
}

TEST_CASE("bce_logits: loss and gradient against the double formula, every tail length, extreme logits") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> logit(-30.0f, 30.0f), unit(0.0f, 1.0f);
  for (int64_t n : {1, 15, 16, 17, 4095, 4096, 4097, 10000}) {
    std::vector<float> l(n), t(n), d(n);
    for (int64_t i = 0; i < n; ++i) l[i] = logit(rng), t[i] = unit(rng);
    l[0] = (n % 2) ? 150.0f : -150.0f;  // e^-|l| below the clamp: still the exact limit to float precision
    const float scale = 0.5f;
    float loss = 1.0f;  // the op adds to what is there
    cpu::bce_logits(l.data(), t.data(), n, scale, d.data(), &loss);
    double want = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double x = l[i], p = 1.0 / (1.0 + std::exp(-x));
      want += std::max(x, 0.0) - x * t[i] + std::log1p(std::exp(-std::fabs(x)));
      CAPTURE(n);
      CAPTURE(i);
      REQUIRE(std::fabs(d[i] - scale * (p - t[i])) <= 1e-6);
    }
    CHECK(loss - 1.0 == doctest::Approx(scale * want).epsilon(1e-5));
  }
}

TEST_CASE("adam_step: every element exactly as the textbook float update, ragged chunks included") {
  std::mt19937 rng(12);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t n = 100003;
  std::vector<float> p(n), g(n), m(n, 0.0f), v(n, 0.0f);
  for (int64_t i = 0; i < n; ++i) p[i] = u(rng), g[i] = u(rng);
  std::vector<float> p_ref = p, m_ref = m, v_ref = v;
  AdamHyper h;
  h.lr = 1e-3f;
  h.weight_decay = 1e-2f;
  for (int step = 1; step <= 3; ++step) {
    cpu::adam_step(p.data(), g.data(), m.data(), v.data(), n, h, step);
    const float bc1 = 1.0f - std::pow(h.beta1, static_cast<float>(step));
    const float bc2 = 1.0f - std::pow(h.beta2, static_cast<float>(step));
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i] + h.weight_decay * p_ref[i];
      m_ref[i] = h.beta1 * m_ref[i] + (1.0f - h.beta1) * gi;
      v_ref[i] = h.beta2 * v_ref[i] + (1.0f - h.beta2) * gi * gi;
      p_ref[i] -= h.lr * (m_ref[i] / bc1) / (std::sqrt(v_ref[i] / bc2) + h.eps);
    }
  }
  int differing = 0;
  for (int64_t i = 0; i < n; ++i) differing += p[i] != p_ref[i] || m[i] != m_ref[i] || v[i] != v_ref[i];
  CHECK(differing == 0);
}
