// The convolution-net ops on the CPU: conv2d (against a direct loop and finite differences), pooling,
// batch norm, dropout, softmax cross-entropy, and the Conv2d / BatchNorm layers.
#include <doctest/doctest.h>

#include <algorithm>
#include <limits>
#include <numeric>

#include "engine/batchnorm.h"
#include "engine/conv2d.h"
#include "engine/cpu/avx512_kernels.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/dropout.h"
#include "engine/ops/pool.h"
#include "engine/ops/softmax_xent.h"
#include "tests/gradcheck.h"

namespace {
Backend cpu_backend() { return make_backend("cpu", 7); }

// The textbook 7-deep loop, as independent of the im2col formulation as possible.
std::vector<float> direct_conv(const ConvGeom& g, const std::vector<float>& x, const std::vector<float>& w,
                               const std::vector<float>& b) {
  const int oh = g.oh(), ow = g.ow();
  std::vector<float> y(static_cast<size_t>(g.n) * g.c_out * oh * ow);
  for (int n = 0; n < g.n; ++n)
    for (int co = 0; co < g.c_out; ++co)
      for (int oy = 0; oy < oh; ++oy)
        for (int ox = 0; ox < ow; ++ox) {
          double s = b.empty() ? 0.0 : b[co];
          for (int ci = 0; ci < g.c_in; ++ci)
            for (int ki = 0; ki < g.k; ++ki)
              for (int kj = 0; kj < g.k; ++kj) {
                const int iy = oy * g.stride - g.pad + ki, ix = ox * g.stride - g.pad + kj;
                if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
                s += static_cast<double>(x[((n * g.c_in + ci) * g.h + iy) * g.w + ix]) *
                     w[((co * g.c_in + ci) * g.k + ki) * g.k + kj];
              }
          y[((n * g.c_out + co) * oh + oy) * ow + ox] = static_cast<float>(s);
        }
  return y;
}

// Distinct values at least 0.05 apart in random order, so a finite-difference step of 1e-3 never
// changes which element wins a max-pool window.
std::vector<float> distinct_values(size_t n, std::mt19937& rng) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = -1.0f + 0.05f * static_cast<float>(i);
  std::shuffle(v.begin(), v.end(), rng);
  return v;
}

// Random input, weights and bias of a convolution, in that draw order.
struct ConvInputs {
  std::vector<float> x, w, b;
};
ConvInputs random_conv_inputs(const ConvGeom& g, std::mt19937& rng) {
  ConvInputs in;
  in.x = random_vector(static_cast<size_t>(g.n) * g.c_in * g.h * g.w, rng);
  in.w = random_vector(static_cast<size_t>(g.c_out) * g.col_rows(), rng);
  in.b = random_vector(g.c_out, rng);
  return in;
}

const ConvGeom kConvCases[] = {
    // n, c_in, h, w, c_out, k, stride, pad
    {2, 3, 7, 6, 4, 3, 1, 0},  {2, 2, 9, 8, 3, 3, 2, 1}, {1, 3, 6, 7, 2, 5, 1, 2},
    {3, 2, 8, 5, 3, 2, 2, 0},  {2, 1, 5, 5, 2, 1, 1, 0}, {2, 3, 7, 9, 2, 3, 2, 2},
};
}  // namespace

TEST_CASE("conv2d forward matches a direct loop") {
  Backend be = cpu_backend();
  std::mt19937 rng(21);
  for (const ConvGeom& g : kConvCases) {
    CAPTURE(g.h); CAPTURE(g.w); CAPTURE(g.k); CAPTURE(g.stride); CAPTURE(g.pad);
    ConvInputs in = random_conv_inputs(g, rng);
    std::vector<float>& x = in.x, & w = in.w, & b = in.b;
    std::vector<float> y(static_cast<size_t>(g.n) * g.c_out * g.oh() * g.ow()), ws(g.workspace_floats());
    for (bool with_bias : {true, false}) {
      conv2d_fwd(be, g, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data(), ws.data());
      std::vector<float> want = direct_conv(g, x, w, with_bias ? b : std::vector<float>{});
      for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == doctest::Approx(want[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("conv2d backward (data, weight, bias) matches finite differences") {
  Backend be = cpu_backend();
  std::mt19937 rng(22);
  for (const ConvGeom& g : kConvCases) {
    CAPTURE(g.h); CAPTURE(g.w); CAPTURE(g.k); CAPTURE(g.stride); CAPTURE(g.pad);
    ConvInputs in = random_conv_inputs(g, rng);
    std::vector<float>& x = in.x, & w = in.w, & b = in.b;
    const size_t ny = static_cast<size_t>(g.n) * g.c_out * g.oh() * g.ow();
    std::vector<float> wts = random_vector(ny, rng), y(ny), ws(g.workspace_floats());
    auto loss = [&] {
      conv2d_fwd(be, g, x.data(), w.data(), b.data(), y.data(), ws.data());
      return weighted_sum(y, wts);
    };
    // Gradients accumulate: start them at a known offset and subtract it afterwards.
    std::vector<float> dx(x.size(), 123.0f), dw(w.size(), 0.5f), db(b.size(), -0.25f);
    conv2d_bwd(be, g, x.data(), w.data(), wts.data(), dx.data(), dw.data(), db.data(), ws.data());
    for (float& v : dw) v -= 0.5f;
    for (float& v : db) v += 0.25f;
    check_gradient(loss, x.data(), dx.data(), x.size(), 60, 1e-2f, 1e-3);
    check_gradient(loss, w.data(), dw.data(), w.size(), 60, 1e-2f, 1e-3);
    check_gradient(loss, b.data(), db.data(), b.size(), 10, 1e-2f, 1e-3);
  }
}

TEST_CASE("max-pool and avg-pool backward match finite differences") {
  std::mt19937 rng(23);
  const PoolGeom cases[] = {
      // n, c, h, w, k, stride, pad
      {2, 3, 7, 7, 2, 2, 0},  // odd size: the last row / column is dropped (floor mode)
      {2, 2, 8, 6, 2, 2, 0},
      {1, 2, 9, 8, 3, 2, 1},  // overlapping windows with padding (the LNTL feature extractor's pool)
      {2, 1, 7, 7, 7, 7, 0},  // global pooling
  };
  for (const PoolGeom& g : cases) {
    CAPTURE(g.h); CAPTURE(g.w); CAPTURE(g.k); CAPTURE(g.stride); CAPTURE(g.pad);
    const size_t nx = static_cast<size_t>(g.n) * g.c * g.h * g.w, ny = static_cast<size_t>(g.n) * g.c * g.oh() * g.ow();
    std::vector<float> x = distinct_values(nx, rng), wts = random_vector(ny, rng), y(ny), dx(nx, 7.0f);
    std::vector<int> arg(ny);

    auto max_loss = [&] {
      cpu::maxpool_fwd(x.data(), g, y.data(), nullptr);
      return weighted_sum(y, wts);
    };
    cpu::maxpool_fwd(x.data(), g, y.data(), arg.data());
    for (size_t o = 0; o < ny; ++o) {  // the saved winner holds the window's value
      const size_t plane = o / (g.oh() * g.ow());
      CHECK(x[plane * g.h * g.w + arg[o]] == y[o]);
    }
    cpu::maxpool_bwd(wts.data(), arg.data(), g, dx.data());
    check_gradient(max_loss, x.data(), dx.data(), nx, 80, 1e-3f, 1e-3);

    auto avg_loss = [&] {
      cpu::avgpool_fwd(x.data(), g, y.data());
      return weighted_sum(y, wts);
    };
    cpu::avgpool_bwd(wts.data(), g, dx.data());
    check_gradient(avg_loss, x.data(), dx.data(), nx, 80, 1e-2f, 1e-3);
  }
}

TEST_CASE("max-pool values on a hand-made plane") {
  // 1 x 1 x 4 x 5, k 2 s 2: windows over columns 0-1 and 2-3; column 4 and nothing else is dropped.
  std::vector<float> x = {1, 5, 2, 0, 9,  //
                          3, 4, 8, 1, 9,  //
                          0, 0, 1, 1, 9,  //
                          6, 2, 1, 7, 9};
  PoolGeom g{1, 1, 4, 5, 2, 2, 0};
  std::vector<float> y(4);
  std::vector<int> arg(4);
  cpu::maxpool_fwd(x.data(), g, y.data(), arg.data());
  CHECK(y == std::vector<float>{5, 8, 6, 7});
  CHECK(arg == std::vector<int>{1, 7, 15, 18});
}

namespace {
// cpu::maxpool_fwd (on whichever CPU path is on) against a direct row-major scan written here.
void check_maxpool_against_scan() {
  std::mt19937 rng(25);
  const PoolGeom cases[] = {{3, 4, 28, 28, 3, 2, 1}, {2, 3, 9, 8, 3, 2, 1}, {2, 2, 7, 7, 2, 2, 0},
                            {1, 3, 10, 6, 3, 1, 1},  {2, 1, 7, 7, 7, 7, 0}, {1, 2, 5, 9, 3, 3, 1},
                            {1, 2, 6, 37, 3, 1, 1}};  // 37 outputs a row: two full blocks of 16 and a ragged one
  for (const PoolGeom& g : cases) {
    CAPTURE(g.h); CAPTURE(g.w); CAPTURE(g.k); CAPTURE(g.stride); CAPTURE(g.pad);
    const int64_t in_plane = static_cast<int64_t>(g.h) * g.w, out_plane = static_cast<int64_t>(g.oh()) * g.ow();
    const int64_t planes = static_cast<int64_t>(g.n) * g.c;
    // Four distinct values make ties common; the last plane is all -inf (every window keeps its first tap).
    std::vector<float> x(static_cast<size_t>(planes * in_plane));
    for (float& v : x) v = static_cast<float>(rng() % 4) - 1.5f;
    std::fill(x.end() - in_plane, x.end(), -std::numeric_limits<float>::infinity());
    std::vector<float> y(static_cast<size_t>(planes * out_plane)), y_eval(y.size());
    std::vector<int> arg(y.size());
    cpu::maxpool_fwd(x.data(), g, y.data(), arg.data());
    cpu::maxpool_fwd(x.data(), g, y_eval.data(), nullptr);
    CHECK(y_eval == y);
    for (int64_t pl = 0; pl < planes; ++pl)
      for (int oy = 0; oy < g.oh(); ++oy)
        for (int ox = 0; ox < g.ow(); ++ox) {
          const int y0 = std::max(0, oy * g.stride - g.pad), x0 = std::max(0, ox * g.stride - g.pad);
          float best = -std::numeric_limits<float>::infinity();
          int at = y0 * g.w + x0;
          for (int iy = y0; iy < std::min(g.h, oy * g.stride - g.pad + g.k); ++iy)
            for (int ix = x0; ix < std::min(g.w, ox * g.stride - g.pad + g.k); ++ix)
              if (x[pl * in_plane + iy * g.w + ix] > best) best = x[pl * in_plane + iy * g.w + ix], at = iy * g.w + ix;
          const int64_t o = pl * out_plane + oy * g.ow() + ox;
          REQUIRE(y[o] == best);
          REQUIRE(arg[o] == at);
        }
  }
}
}  // namespace

TEST_CASE("max-pool: values and winners equal a direct row-major scan, ties and -inf included") {
  // Both CPU paths: the scalar scan and, where the CPU has it, the AVX-512 gathers.
  const bool avx512 = cpu::avx512_kernels();
  for (const bool use_avx512 : {false, true}) {
    if (use_avx512 && !avx512) {
      MESSAGE("no AVX-512 here (or AMNESIA_AVX512=off): only the scalar max-pool checked");
      break;
    }
    CAPTURE(use_avx512);
    cpu::set_avx512_kernels(use_avx512);
    check_maxpool_against_scan();
  }
  cpu::set_avx512_kernels(avx512);
}

TEST_CASE("batch norm: training backward matches finite differences") {
  std::mt19937 rng(24);
  struct Case { int n, c, hw; };
  for (Case k : {Case{3, 4, 5}, Case{6, 3, 1}, Case{2, 2, 9}}) {
    CAPTURE(k.n); CAPTURE(k.c); CAPTURE(k.hw);
    const size_t nx = static_cast<size_t>(k.n) * k.c * k.hw;
    std::vector<float> x = random_vector(nx, rng, -2.0f, 2.0f), wts = random_vector(nx, rng), y(nx);
    std::vector<float> gamma = random_vector(k.c, rng, 0.5f, 1.5f), beta = random_vector(k.c, rng);
    std::vector<float> mean(k.c), invstd(k.c);
    auto loss = [&] {
      cpu::batchnorm_fwd_train(x.data(), gamma.data(), beta.data(), k.n, k.c, k.hw, 1e-5f, 0.1f, y.data(),
                               mean.data(), invstd.data(), nullptr, nullptr);
      return weighted_sum(y, wts);
    };
    loss();
    std::vector<float> dx(nx, 99.0f), dgamma(k.c, 0.0f), dbeta(k.c, 0.0f);
    cpu::batchnorm_bwd(x.data(), wts.data(), gamma.data(), mean.data(), invstd.data(), k.n, k.c, k.hw, dx.data(),
                       dgamma.data(), dbeta.data());
    check_gradient(loss, x.data(), dx.data(), nx, 60, 1e-3f, 2e-3);
    check_gradient(loss, gamma.data(), dgamma.data(), gamma.size(), 10, 1e-3f, 2e-3);
    check_gradient(loss, beta.data(), dbeta.data(), beta.size(), 10, 1e-3f, 2e-3);
  }
}

TEST_CASE("batch norm: statistics, running update (PyTorch semantics) and eval mode") {
  // One channel of 4 values over n = 2, hw = 2 and a second channel that is constant.
  const int n = 2, c = 2, hw = 2;
  std::vector<float> x = {1, 2, 5, 5,   // image 0: channel 0 = {1, 2}, channel 1 = {5, 5}
                          3, 6, 5, 5};  // image 1: channel 0 = {3, 6}, channel 1 = {5, 5}
  std::vector<float> gamma = {2.0f, 1.0f}, beta = {0.5f, -1.0f}, y(8), mean(2), invstd(2);
  std::vector<float> rmean = {0.0f, 1.0f}, rvar = {1.0f, 2.0f};
  cpu::batchnorm_fwd_train(x.data(), gamma.data(), beta.data(), n, c, hw, 1e-5f, 0.1f, y.data(), mean.data(),
                           invstd.data(), rmean.data(), rvar.data());
  // channel 0: mean 3, biased var (4 + 1 + 0 + 9) / 4 = 3.5, unbiased 14 / 3.
  CHECK(mean[0] == doctest::Approx(3.0));
  CHECK(invstd[0] == doctest::Approx(1.0 / std::sqrt(3.5 + 1e-5)));
  CHECK(y[0] == doctest::Approx(2.0 * (1 - 3) / std::sqrt(3.5 + 1e-5) + 0.5));
  CHECK(rmean[0] == doctest::Approx(0.9 * 0.0 + 0.1 * 3.0));
  CHECK(rvar[0] == doctest::Approx(0.9 * 1.0 + 0.1 * 14.0 / 3.0));
  // channel 1: zero variance -> y = beta, running var decays toward 0.
  CHECK(y[2] == doctest::Approx(-1.0));
  CHECK(rmean[1] == doctest::Approx(0.9 * 1.0 + 0.1 * 5.0));
  CHECK(rvar[1] == doctest::Approx(0.9 * 2.0));

  cpu::batchnorm_fwd_eval(x.data(), gamma.data(), beta.data(), rmean.data(), rvar.data(), n, c, hw, 1e-5f, y.data());
  CHECK(y[1] == doctest::Approx(2.0 * (2 - rmean[0]) / std::sqrt(rvar[0] + 1e-5) + 0.5));
  CHECK(y[6] == doctest::Approx((5 - rmean[1]) / std::sqrt(rvar[1] + 1e-5) - 1.0));
}

TEST_CASE("dropout: fixed mask, inverted scaling, channel groups, exact gradient") {
  std::mt19937 rng(25);
  const int64_t n = 24;
  for (int group : {1, 4}) {
    CAPTURE(group);
    const float p = 0.5f;
    std::vector<float> u = random_vector(n / group, rng, 0.0f, 1.0f), mask = u;
    std::vector<float> x = random_vector(n, rng), y(n), wts = random_vector(n, rng), dx(n);
    cpu::dropout_fwd(x.data(), mask.data(), n, group, p, y.data());
    for (int64_t i = 0; i < n; ++i) {
      const float want = u[i / group] >= p ? x[i] * 2.0f : 0.0f;
      CHECK(y[i] == want);
    }
    auto loss = [&] {
      std::vector<float> m = u;  // the same uniforms every time: a fixed mask
      cpu::dropout_fwd(x.data(), m.data(), n, group, p, y.data());
      return weighted_sum(y, wts);
    };
    cpu::dropout_bwd(wts.data(), mask.data(), n, group, dx.data());
    check_gradient(loss, x.data(), dx.data(), n, static_cast<int>(n), 1e-2f, 1e-4);
  }

  SUBCASE("drawn masks keep about 1 - p of the values and replay from the seed") {
    Backend be = cpu_backend();
    const int64_t big = 20000;
    std::vector<float> x(big, 1.0f), y(big), mask(big);
    be.rng_counter = 0;
    dropout_fwd(be, x.data(), mask.data(), big, 1, 0.3f, y.data());
    const double kept = std::count_if(y.begin(), y.end(), [](float v) { return v != 0.0f; }) / double(big);
    CHECK(kept == doctest::Approx(0.7).epsilon(0.03));
    CHECK(*std::max_element(y.begin(), y.end()) == doctest::Approx(1.0 / 0.7));
    std::vector<float> y2(big);
    be.rng_counter = 0;
    dropout_fwd(be, x.data(), mask.data(), big, 1, 0.3f, y2.data());
    CHECK(y == y2);
  }
}

TEST_CASE("softmax cross-entropy: value, gradient, ignored rows, and softmax") {
  std::mt19937 rng(26);
  const int rows = 6, classes = 5;
  std::vector<float> l = random_vector(rows * classes, rng, -4.0f, 4.0f), d(rows * classes);
  std::vector<int> labels = {0, 4, 2, -1, 1, 3};
  const float scale = 1.0f / rows;
  auto loss = [&] {
    float s = 0.0f;
    cpu::softmax_xent(l.data(), labels.data(), rows, classes, scale, nullptr, &s);
    return static_cast<double>(s);
  };
  float s = 1.5f;  // accumulates
  cpu::softmax_xent(l.data(), labels.data(), rows, classes, scale, d.data(), &s);
  double want = 0.0;
  for (int r = 0; r < rows; ++r) {
    if (labels[r] < 0) continue;
    double z = 0.0;
    for (int j = 0; j < classes; ++j) z += std::exp(static_cast<double>(l[r * classes + j]));
    want += std::log(z) - l[r * classes + labels[r]];
  }
  CHECK(s - 1.5f == doctest::Approx(want * scale).epsilon(1e-5));
  for (int j = 0; j < classes; ++j) CHECK(d[3 * classes + j] == 0.0f);  // the ignored row
  check_gradient(loss, l.data(), d.data(), l.size(), static_cast<int>(l.size()), 1e-2f, 1e-3);

  std::vector<float> huge = {1000.0f, 0.0f, -1000.0f}, p(3);
  cpu::softmax(huge.data(), 1, 3, p.data());
  CHECK(p[0] == doctest::Approx(1.0));
  CHECK(p[2] == 0.0f);
  std::vector<float> probs(rows * classes);
  cpu::softmax(l.data(), rows, classes, probs.data());
  for (int r = 0; r < rows; ++r)
    CHECK(std::accumulate(probs.begin() + r * classes, probs.begin() + (r + 1) * classes, 0.0) ==
          doctest::Approx(1.0));
}

TEST_CASE("Conv2d and BatchNorm layers: names, initialisation, parameter gradients") {
  Backend be = cpu_backend();
  ParamStore p;
  Conv2d conv(p, "conv", 2, 3, 3, 1, 1);
  BatchNorm bn(p, "bn", 3);
  p.allocate(be, 5);
  bn.init(be, p);
  REQUIRE(p.entries().size() == 4);
  CHECK(p.entries()[0].name == "conv.weight");
  CHECK(p.entries()[0].shape == std::vector<int>{3, 2, 3, 3});
  CHECK(p.entries()[1].name == "conv.bias");
  CHECK(p.entries()[2].name == "bn.weight");
  CHECK(p.entries()[3].name == "bn.bias");
  const float bound = 1.0f / std::sqrt(18.0f);
  for (size_t i = 0; i < 3 * 18 + 3; ++i) CHECK(std::fabs(p.values()[i]) <= bound);
  for (int i = 0; i < 3; ++i) {
    CHECK(p.value(bn.gamma)[i] == 1.0f);
    CHECK(p.value(bn.beta)[i] == 0.0f);
    CHECK(bn.running_mean()[i] == 0.0f);
    CHECK(bn.running_var()[i] == 1.0f);
  }

  // conv -> batch norm (training) -> weighted sum: gradients w.r.t. every parameter and the input.
  std::mt19937 rng(27);
  const int n = 3, h = 5, w = 4;
  std::vector<float> x = random_vector(n * 2 * h * w, rng), c(n * 3 * h * w), y(c.size());
  std::vector<float> wts = random_vector(y.size(), rng);
  for (size_t i = 0; i < 3; ++i) p.value(bn.gamma)[i] = 0.7f + 0.2f * i;  // away from the symmetric init
  auto loss = [&] {
    conv.forward(be, p, x.data(), n, h, w, c.data());
    bn.forward_train(be, p, c.data(), n, h * w, y.data());
    return weighted_sum(y, wts);
  };
  loss();
  p.zero_grad(be);
  std::vector<float> dc(c.size()), dx(x.size());
  bn.backward(be, p, c.data(), wts.data(), n, h * w, dc.data());
  conv.backward(be, p, x.data(), dc.data(), n, h, w, dx.data());
  check_gradient(loss, x.data(), dx.data(), x.size(), 40, 1e-3f, 5e-3);
  check_gradient(loss, p.values(), p.grads(), p.size(), 80, 1e-3f, 5e-3);

  std::vector<NamedTensor> ts;
  bn.append_stats(be, ts);
  REQUIRE(ts.size() == 2);
  CHECK(ts[0].name == "bn.running_mean");
  CHECK(ts[1].name == "bn.running_var");
}
