// The transposed convolution on the CPU: forward against a direct scatter loop, backward (data, weight,
// bias) against finite differences, the adjoint identity with Conv2d, and the layer's names, shapes and
// PyTorch initialisation.
#include <doctest/doctest.h>

#include <algorithm>

#include "engine/conv_transpose2d.h"
#include "engine/ops/conv_transpose2d.h"
#include "tests/gradcheck.h"

namespace {
Backend cpu_backend() { return make_backend("cpu", 7); }

// PyTorch's definition written out: every input pixel scatters k x k weighted copies of itself onto the
// output at stride `stride`, shifted by -pad; the out_pad extra rows / columns only catch what lands there.
std::vector<float> direct_conv_transpose(const ConvTransposeGeom& g, const std::vector<float>& x,
                                         const std::vector<float>& w, const std::vector<float>& b) {
  const int oh = g.oh(), ow = g.ow();
  std::vector<double> y(static_cast<size_t>(g.n) * g.c_out * oh * ow, 0.0);
  for (int n = 0; n < g.n; ++n)
    for (int co = 0; co < g.c_out; ++co) {
      double* plane = y.data() + (static_cast<size_t>(n) * g.c_out + co) * oh * ow;
      if (!b.empty())
        for (int p = 0; p < oh * ow; ++p) plane[p] = b[co];
      for (int ci = 0; ci < g.c_in; ++ci)
        for (int iy = 0; iy < g.h; ++iy)
          for (int ix = 0; ix < g.w; ++ix)
            for (int ki = 0; ki < g.k; ++ki)
              for (int kj = 0; kj < g.k; ++kj) {
                const int oy = iy * g.stride - g.pad + ki, ox = ix * g.stride - g.pad + kj;
                if (oy < 0 || oy >= oh || ox < 0 || ox >= ow) continue;
                plane[oy * ow + ox] += static_cast<double>(x[((n * g.c_in + ci) * g.h + iy) * g.w + ix]) *
                                       w[((ci * g.c_out + co) * g.k + ki) * g.k + kj];
              }
    }
  return std::vector<float>(y.begin(), y.end());
}

const ConvTransposeGeom kCases[] = {
    // n, c_in, h, w, c_out, k, stride, pad, out_pad
    {2, 3, 4, 5, 2, 3, 2, 1, 1},  // the MAE's upsampling shape, small
    {2, 2, 3, 3, 3, 3, 1, 0, 0},  // stride 1: a "full" convolution
    {1, 2, 4, 3, 2, 4, 2, 1, 0},  // k 4 s 2 p 1: exact doubling without output padding
    {2, 3, 3, 4, 2, 3, 3, 0, 2},  // stride 3 with the largest output padding
    {2, 4, 7, 7, 3, 3, 2, 1, 1},  // 7 -> 14
    {1, 1, 5, 4, 1, 1, 1, 0, 0},  // 1x1: a per-pixel linear map
};

size_t in_floats(const ConvTransposeGeom& g) { return static_cast<size_t>(g.n) * g.c_in * g.h * g.w; }
size_t weight_floats(const ConvTransposeGeom& g) { return static_cast<size_t>(g.c_in) * g.c_out * g.k * g.k; }
}  // namespace

TEST_CASE("conv_transpose2d forward matches a direct scatter loop (PyTorch output size)") {
  Backend be = cpu_backend();
  std::mt19937 rng(41);
  for (const ConvTransposeGeom& g : kCases) {
    CAPTURE(g.h); CAPTURE(g.k); CAPTURE(g.stride); CAPTURE(g.pad); CAPTURE(g.out_pad);
    REQUIRE(g.mirror().oh() == g.h);  // the mirror convolution maps the output back onto the input's size
    REQUIRE(g.mirror().ow() == g.w);
    std::vector<float> x = random_vector(in_floats(g), rng), w = random_vector(weight_floats(g), rng);
    std::vector<float> b = random_vector(g.c_out, rng);
    std::vector<float> y(g.out_floats()), ws(g.workspace_floats());
    for (bool with_bias : {true, false}) {
      conv_transpose2d_fwd(be, g, x.data(), w.data(), with_bias ? b.data() : nullptr, y.data(), ws.data());
      std::vector<float> want = direct_conv_transpose(g, x, w, with_bias ? b : std::vector<float>{});
      for (size_t i = 0; i < y.size(); ++i) REQUIRE(y[i] == doctest::Approx(want[i]).epsilon(1e-5));
    }
  }
}

TEST_CASE("conv_transpose2d backward (data, weight, bias) matches finite differences") {
  Backend be = cpu_backend();
  std::mt19937 rng(42);
  for (const ConvTransposeGeom& g : kCases) {
    CAPTURE(g.h); CAPTURE(g.k); CAPTURE(g.stride); CAPTURE(g.pad); CAPTURE(g.out_pad);
    std::vector<float> x = random_vector(in_floats(g), rng), w = random_vector(weight_floats(g), rng);
    std::vector<float> b = random_vector(g.c_out, rng), wts = random_vector(g.out_floats(), rng);
    std::vector<float> y(g.out_floats()), ws(g.workspace_floats());
    auto loss = [&] {
      conv_transpose2d_fwd(be, g, x.data(), w.data(), b.data(), y.data(), ws.data());
      return weighted_sum(y, wts);
    };
    // dx is overwritten; dw and db accumulate, so they start at an offset that is subtracted afterwards.
    std::vector<float> dx(x.size(), 123.0f), dw(w.size(), 0.5f), db(b.size(), -0.25f);
    conv_transpose2d_bwd(be, g, x.data(), w.data(), wts.data(), dx.data(), dw.data(), db.data(), ws.data());
    for (float& v : dw) v -= 0.5f;
    for (float& v : db) v += 0.25f;
    check_gradient(loss, x.data(), dx.data(), x.size(), 60, 1e-2f, 1e-3);
    check_gradient(loss, w.data(), dw.data(), w.size(), 60, 1e-2f, 1e-3);
    check_gradient(loss, b.data(), db.data(), b.size(), 10, 1e-2f, 1e-3);
  }
}

TEST_CASE("conv_transpose2d is the adjoint of conv2d with the same weight: <conv(u), v> = <u, conv_t(v)>") {
  Backend be = cpu_backend();
  std::mt19937 rng(43);
  for (const ConvTransposeGeom& g : kCases) {
    const ConvGeom m = g.mirror();
    std::vector<float> u = random_vector(g.out_floats(), rng), v = random_vector(in_floats(g), rng);
    std::vector<float> w = random_vector(weight_floats(g), rng);
    std::vector<float> conv_u(in_floats(g)), convt_v(g.out_floats());
    std::vector<float> ws(std::max(g.workspace_floats(), m.workspace_floats()));
    conv2d_fwd(be, m, u.data(), w.data(), nullptr, conv_u.data(), ws.data());
    conv_transpose2d_fwd(be, g, v.data(), w.data(), nullptr, convt_v.data(), ws.data());
    CHECK(weighted_sum(conv_u, v) == doctest::Approx(weighted_sum(u, convt_v)).epsilon(1e-5));
  }
}

TEST_CASE("ConvTranspose2d layer: names, shapes, PyTorch initialisation, sizes, gradients into the store") {
  Backend be = cpu_backend();
  ParamStore store;
  ConvTranspose2d up(store, "up", 4, 3, 3, 2, 1, 1);
  CHECK_THROWS_WITH_AS(ConvTranspose2d(store, "bad", 4, 3, 3, 2, 1, 2), doctest::Contains("output padding"),
                       std::invalid_argument);
  store.allocate(be, 9);
  REQUIRE(store.entries().size() == 2);
  CHECK(store.entries()[0].name == "up.weight");
  CHECK(store.entries()[0].shape == std::vector<int>{4, 3, 3, 3});  // [in, out, k, k] as in PyTorch
  CHECK(store.entries()[1].name == "up.bias");
  // PyTorch's fan_in for a transposed weight is dim 1 * k * k = out * 9.
  const float bound = 1.0f / std::sqrt(27.0f);
  CHECK(store.entries()[0].init_bound == doctest::Approx(bound));
  for (size_t i = 0; i < store.size(); ++i) CHECK(std::fabs(store.values()[i]) <= bound);
  CHECK(up.out_h(7) == 14);
  CHECK(up.out_w(14) == 28);

  const int n = 2, h = 3, w = 4;
  std::mt19937 rng(44);
  std::vector<float> x = random_vector(static_cast<size_t>(n) * 4 * h * w, rng);
  const size_t ny = static_cast<size_t>(n) * 3 * up.out_h(h) * up.out_w(w);
  std::vector<float> y(ny), wts = random_vector(ny, rng), dx(x.size());
  auto loss = [&] {
    up.forward(be, store, x.data(), n, h, w, y.data());
    return weighted_sum(y, wts);
  };
  store.zero_grad(be);
  up.backward(be, store, x.data(), wts.data(), n, h, w, dx.data());
  std::vector<float> analytic(store.grads(), store.grads() + store.size());
  check_gradient(loss, store.values(), analytic.data(), store.size(), 40, 1e-2f, 1e-3);
  check_gradient(loss, x.data(), dx.data(), x.size(), 20, 1e-2f, 1e-3);
}
