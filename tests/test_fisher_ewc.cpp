// fisher_accumulate against a naive per-sample loop; EWC against hand computation and finite differences.
#include <doctest/doctest.h>

#include "engine/cpu/thread_pool.h"
#include "engine/ops/ewc.h"
#include "engine/ops/fisher.h"
#include "tests/gradcheck.h"

TEST_CASE("fisher_accumulate equals the per-sample squared-gradient loop") {
  std::mt19937 rng(9);
  const int rows = 6, out = 5, in = 7;
  std::vector<float> delta = random_vector(rows * out, rng), a = random_vector(rows * in, rng);
  std::vector<float> fw(out * in, 0.5f), fb(out, 0.25f);  // accumulates on top of what is there
  cpu::fisher_accumulate(delta.data(), a.data(), rows, out, in, 0.1f, fw.data(), fb.data());
  for (int o = 0; o < out; ++o) {
    double b = 0.25;
    for (int n = 0; n < rows; ++n) {
      double gb = delta[n * out + o];  // per-sample bias gradient
      b += 0.1 * gb * gb;
    }
    CHECK(fb[o] == doctest::Approx(b).epsilon(1e-5));
    for (int i = 0; i < in; ++i) {
      double w = 0.5;
      for (int n = 0; n < rows; ++n) {
        double g = static_cast<double>(delta[n * out + o]) * a[n * in + i];  // per-sample weight gradient
        w += 0.1 * g * g;
      }
      CHECK(fw[o * in + i] == doctest::Approx(w).epsilon(1e-5));
    }
  }
}

TEST_CASE("EWC penalty and gradient") {
  std::mt19937 rng(10);
  const int n = 40;
  std::vector<float> theta = random_vector(n, rng), star = random_vector(n, rng), f = random_vector(n, rng, 0.0f, 2.0f);
  std::vector<float> grad(n, 1.0f);
  float penalty = 3.0f;
  cpu::ewc_penalty_and_grad(theta.data(), star.data(), f.data(), n, 100.0f, grad.data(), &penalty);
  double expect = 3.0;
  for (int i = 0; i < n; ++i) {
    double d = theta[i] - star[i];
    expect += 100.0 * f[i] * d * d;
    CHECK(grad[i] == doctest::Approx(1.0 + 200.0 * f[i] * d).epsilon(1e-5));
  }
  CHECK(penalty == doctest::Approx(expect).epsilon(1e-5));

  // Finite differences at lambda = 1, where the float penalty keeps enough digits.
  std::vector<float> g0(n, 0.0f);
  cpu::ewc_penalty_and_grad(theta.data(), star.data(), f.data(), n, 1.0f, g0.data(), nullptr);
  auto loss = [&] {
    std::vector<float> scratch(n, 0.0f);
    float p = 0.0f;
    cpu::ewc_penalty_and_grad(theta.data(), star.data(), f.data(), n, 1.0f, scratch.data(), &p);
    return static_cast<double>(p);
  };
  check_gradient(loss, theta.data(), g0.data(), n, n, 1e-2f, 1e-2);
}

TEST_CASE("EWC over a million-parameter-sized buffer: direct formula, same bits at 1 to 4 threads") {
  std::mt19937 rng(11);
  const int64_t n = 100003;  // ragged slices and blocks
  std::vector<float> theta = random_vector(n, rng), star = random_vector(n, rng), f = random_vector(n, rng, 0.0f, 2.0f);
  const int before = cpu::threads();
  std::vector<float> first;
  for (int t : {1, 2, 3, 4}) {
    cpu::set_threads(t);
    std::vector<float> grad(n, 0.5f);
    float penalty = 1.0f;
    cpu::ewc_penalty_and_grad(theta.data(), star.data(), f.data(), n, 3.0f, grad.data(), &penalty);
    grad.push_back(penalty);
    if (t == 1) {
      first = grad;
      double expect = 0.0;
      for (int64_t i = 0; i < n; ++i) {
        const float d = theta[i] - star[i];
        expect += static_cast<double>(f[i]) * d * d;
        REQUIRE(grad[i] == 0.5f + 2.0f * 3.0f * f[i] * d);  // elementwise: the same float operations
      }
      CHECK(penalty - 1.0 == doctest::Approx(3.0 * expect).epsilon(1e-5));
    } else {
      CAPTURE(t);
      CHECK(grad == first);
    }
  }
  cpu::set_threads(before);
}
