// Every CPU backward pass against finite differences of its forward pass.
#include <doctest/doctest.h>

#include "engine/linear.h"
#include "engine/ops/bce_logits.h"
#include "engine/ops/concat.h"
#include "engine/ops/reparam_kl.h"
#include "tests/gradcheck.h"

namespace {
Backend cpu_backend() { return make_backend("cpu", 7); }
}  // namespace

TEST_CASE("Linear backward matches finite differences for every activation") {
  Backend be = cpu_backend();
  std::mt19937 rng(1);
  const int rows = 5, in = 7, out = 4;
  for (Act act : {Act::None, Act::ReLU, Act::Sigmoid, Act::Tanh}) {
    ParamStore p;
    Linear layer(p, "fc", in, out, act);
    p.allocate(be, 3);
    std::vector<float> x = random_vector(rows * in, rng), w = random_vector(rows * out, rng), y(rows * out);
    auto loss = [&] {
      layer.forward(be, p, x.data(), rows, y.data());
      return weighted_sum(y, w);
    };
    loss();
    std::vector<float> dy = w, dx(rows * in);
    p.zero_grad(be);
    layer.backward(be, p, x.data(), y.data(), dy.data(), rows, dx.data());
    CAPTURE(static_cast<int>(act));
    check_gradient(loss, x.data(), dx.data(), x.size(), 35, 1e-3f);
    check_gradient(loss, p.values(), p.grads(), p.size(), 32, 1e-3f);
  }
}

TEST_CASE("reparam + KL backward matches finite differences") {
  std::mt19937 rng(2);
  const int rows = 3, zdim = 4;
  const float kl_scale = 0.7f;
  std::vector<float> h = random_vector(rows * 2 * zdim, rng), eps = random_vector(rows * zdim, rng);
  std::vector<float> w = random_vector(rows * zdim, rng), z(rows * zdim), dh(h.size());
  auto loss = [&] {
    float kl = 0;
    cpu::reparam_kl_fwd(h.data(), eps.data(), rows, zdim, kl_scale, z.data(), &kl);
    return weighted_sum(z, w) + kl;
  };
  cpu::reparam_kl_bwd(h.data(), eps.data(), w.data(), rows, zdim, kl_scale, dh.data());
  check_gradient(loss, h.data(), dh.data(), h.size(), 100, 1e-3f);

  SUBCASE("KL alone (dz null)") {
    std::fill(w.begin(), w.end(), 0.0f);
    std::vector<float> dh_kl(h.size());
    cpu::reparam_kl_bwd(h.data(), eps.data(), nullptr, rows, zdim, kl_scale, dh_kl.data());
    check_gradient(loss, h.data(), dh_kl.data(), h.size(), 100, 1e-3f);
  }
}

TEST_CASE("BCE from logits: value and gradient") {
  std::mt19937 rng(3);
  std::vector<float> l = random_vector(50, rng, -6.0f, 6.0f), t = random_vector(50, rng, 0.0f, 1.0f), d(50);
  auto loss = [&] {
    float s = 0;
    cpu::bce_logits(l.data(), t.data(), 50, 2.0f, nullptr, &s);
    return static_cast<double>(s);
  };
  cpu::bce_logits(l.data(), t.data(), 50, 2.0f, d.data(), nullptr);
  check_gradient(loss, l.data(), d.data(), l.size(), 50, 1e-2f);

  // Direct formula on moderate logits, and finiteness at extreme ones.
  float l0 = 0.3f, t0 = 0.8f, s = 0;
  cpu::bce_logits(&l0, &t0, 1, 1.0f, nullptr, &s);
  double p = 1.0 / (1.0 + std::exp(-0.3));
  CHECK(s == doctest::Approx(-(0.8 * std::log(p) + 0.2 * std::log(1 - p))).epsilon(1e-5));
  float big = 200.0f, zero = 0.0f, s2 = 0;
  cpu::bce_logits(&big, &zero, 1, 1.0f, nullptr, &s2);
  CHECK(s2 == doctest::Approx(200.0f));
}

TEST_CASE("concat and slice are inverse") {
  std::mt19937 rng(4);
  std::vector<float> a = random_vector(3 * 2, rng), b = random_vector(3 * 5, rng), out(3 * 7), back(3 * 5);
  cpu::concat_cols(a.data(), 2, b.data(), 5, 3, out.data());
  cpu::slice_cols(out.data(), 7, 2, 5, 3, back.data());
  CHECK(back == b);
  CHECK(out[7] == a[2]);
}
