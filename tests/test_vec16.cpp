// The sixteen-wide elementwise maths (engine/cpu/vec16.h) against double-precision libm, and the ops
// built on it (BCE from logits, Adam) against direct formulas, on lengths with and without ragged tails.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "engine/cpu/thread_pool.h"
#include "engine/cpu/vec16.h"
#include "engine/ops/adam.h"
#include "engine/ops/bce_logits.h"
#include "engine/ops/softmax_entropy.h"
#include "engine/ops/softmax_xent.h"

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

  const cpu::f32x16 outside = cpu::exp16(cpu::f32x16{-1000.0f, -87.5f, 88.5f, 1000.0f, -87.0f, 88.0f});
  CHECK(outside[0] == 0.0f);
  CHECK(outside[1] == 0.0f);
  CHECK(std::isinf(outside[2]));
  CHECK(std::isinf(outside[3]));
  CHECK(outside[4] > 0.0f);
  CHECK(std::isfinite(outside[5]));
}

TEST_CASE("log1p16: within 4 ulp of log1p on [0, 1], tiny arguments included") {
  std::vector<float> ys;
  for (int i = 0; i <= 100000; ++i) ys.push_back(static_cast<float>(i) / 100000.0f);
  for (int e = -38; e < 0; ++e) ys.push_back(std::pow(10.0f, static_cast<float>(e)));
  CHECK(max_rel_error(ys, [](const cpu::f32x16& x, float* y) { cpu::store16(y, cpu::log1p16(x)); }, [](double y) { return std::log1p(y); }) <=
        2 * kTwoUlp);
  CHECK(cpu::log1p16(cpu::f32x16{})[0] == 0.0f);
}

TEST_CASE("log16: within 4 ulp of log over positive normal floats") {
  std::vector<float> xs;
  for (int i = 0; i <= 100000; ++i) xs.push_back(1.0f + 15.0f * static_cast<float>(i) / 100000.0f);
  for (int e = -37; e <= 38; ++e) xs.push_back(std::pow(10.0f, static_cast<float>(e)));
  for (float x : {1.0f, 0.70710677f, 0.70710683f, 1.4142135f, 1.4142137f, 2.0f, 0.5f, 3.4e38f, 1.2e-38f}) xs.push_back(x);
  CHECK(max_rel_error(xs, [](const cpu::f32x16& x, float* y) { cpu::store16(y, cpu::log16(x)); }, [](double x) { return std::log(x); }) <=
        2 * kTwoUlp);
  CHECK(cpu::log16(cpu::splat16(1.0f))[0] == 0.0f);
}

TEST_CASE("bce_logits: loss and gradient against the double formula, every tail length, extreme logits") {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> logit(-30.0f, 30.0f), unit(0.0f, 1.0f);
  for (int64_t n : {1, 15, 16, 17, 4095, 4096, 4097, 10000}) {
    std::vector<float> l(n), t(n), d(n);
    for (int64_t i = 0; i < n; ++i) l[i] = logit(rng), t[i] = unit(rng);
    l[0] = (n % 2) ? 150.0f : -150.0f;  // e^-|l| flushed to 0: still the exact limit to float precision
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

namespace {

// One shape of the softmax test below: rows x classes.
struct SoftmaxCase {
  int rows, classes;
};

}  // namespace

// The three softmax ops against double-precision formulas, and the same bits at 1 to 4 threads.
TEST_CASE("softmax ops in blocks of 16 rows: every ragged block, class count and thread count") {
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> logit(-8.0f, 8.0f);
  const int before = cpu::threads();
  for (SoftmaxCase c : {SoftmaxCase{1, 1}, SoftmaxCase{1, 8}, SoftmaxCase{15, 10}, SoftmaxCase{16, 2}, SoftmaxCase{17, 11},
                        SoftmaxCase{100, 8}, SoftmaxCase{1003, 33}}) {
    CAPTURE(c.rows);
    CAPTURE(c.classes);
    const int64_t n = static_cast<int64_t>(c.rows) * c.classes;
    std::vector<float> l(n);
    for (float& v : l) v = logit(rng);
    l[0] = 1000.0f;  // one row with a huge spread: its other classes get probability 0, not NaN
    if (c.classes > 1) l[1] = -1000.0f;
    std::vector<int> labels(c.rows);
    for (int r = 0; r < c.rows; ++r) labels[r] = (r % 7 == 3) ? -1 : (r % 11 == 5) ? c.classes : r % c.classes;
    const float scale = 0.25f;
    std::vector<float> first;
    for (int threads : {1, 2, 3, 4}) {
      cpu::set_threads(threads);
      std::vector<float> d_ce(n), d_ent(n), p(n);
      float ce = 2.0f, ent = -1.0f;
      cpu::softmax_xent(l.data(), labels.data(), c.rows, c.classes, scale, d_ce.data(), &ce);
      cpu::softmax_neg_entropy(l.data(), c.rows, c.classes, scale, d_ent.data(), &ent);
      cpu::softmax(l.data(), c.rows, c.classes, p.data());
      std::vector<float> all = d_ce;
      all.insert(all.end(), d_ent.begin(), d_ent.end());
      all.insert(all.end(), p.begin(), p.end());
      all.push_back(ce);
      all.push_back(ent);
      if (threads == 1) {
        first = all;
        double want_ce = 0.0, want_ent = 0.0;
        for (int r = 0; r < c.rows; ++r) {
          const float* lr = l.data() + static_cast<int64_t>(r) * c.classes;
          const double mx = *std::max_element(lr, lr + c.classes);
          double z = 0.0;
          for (int j = 0; j < c.classes; ++j) z += std::exp(lr[j] - mx);
          const double log_z = mx + std::log(z);
          double neg_ent = 0.0;
          for (int j = 0; j < c.classes; ++j) neg_ent += std::exp(lr[j] - log_z) * (lr[j] - log_z);
          want_ent += neg_ent;
          const bool ignored = labels[r] < 0 || labels[r] >= c.classes;
          if (!ignored) want_ce += log_z - lr[labels[r]];
          for (int j = 0; j < c.classes; ++j) {
            const int64_t at = static_cast<int64_t>(r) * c.classes + j;
            const double pj = std::exp(lr[j] - log_z);
            REQUIRE(std::fabs(p[at] - pj) <= 1e-6);
            REQUIRE(std::fabs(d_ce[at] - (ignored ? 0.0 : scale * (pj - (j == labels[r])))) <= 1e-6);
            REQUIRE(std::fabs(d_ent[at] - scale * pj * ((lr[j] - log_z) - neg_ent)) <= 1e-5);
          }
        }
        CHECK(ce - 2.0 == doctest::Approx(scale * want_ce).epsilon(1e-5));
        CHECK(ent + 1.0 == doctest::Approx(scale * want_ent).epsilon(1e-5).scale(1.0));
      } else {
        CAPTURE(threads);
        CHECK(std::memcmp(all.data(), first.data(), sizeof(float) * all.size()) == 0);
      }
    }
  }
  cpu::set_threads(before);
}
