// The threaded CPU backend: every split over the thread pool must give the single-thread result BIT FOR
// BIT (engine/cpu/thread_pool.h says why it can: reductions over the batch run in fixed slices whatever
// the thread count, and the other splits do not reorder any sum), and the batch-split convolution must
// agree with the whole-batch composition of engine/ops/conv2d.h.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>

#include "engine/conv_transpose2d.h"
#include "engine/cpu/conv_chunks.h"
#include "engine/cpu/conv_cpu.h"
#include "engine/cpu/conv_shifted.h"
#include "engine/cpu/conv_winograd.h"
#include "engine/cpu/gemm_trace.h"
#include "engine/cpu/thread_pool.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/gemm.h"
#include "models/judge.h"
#include "models/lntl.h"
#include "tests/gradcheck.h"

namespace {

// run() at 1 thread, then at 2, 3 and 4: every result must equal the first exactly.
void same_at_every_thread_count(const std::function<std::vector<float>()>& run) {
  const int before = cpu::threads();
  cpu::set_threads(1);
  const std::vector<float> one = run();
  for (int t : {2, 3, 4}) {
    CAPTURE(t);
    cpu::set_threads(t);
    const std::vector<float> many = run();
    REQUIRE(many.size() == one.size());
    CHECK(std::memcmp(many.data(), one.data(), sizeof(float) * one.size()) == 0);
  }
  cpu::set_threads(before);
}

std::vector<float> concat(std::initializer_list<const std::vector<float>*> parts) {
  std::vector<float> all;
  for (const std::vector<float>* p : parts) all.insert(all.end(), p->begin(), p->end());
  return all;
}

// Several chunks per slice and a ragged last chunk (600 columns x 400 rows per image: one image a chunk
// for the 5x5 case; several for the 3x3 one). The data gradient's two routes: the flipped convolution
// (the 5x5 case: same, narrowing), col2im (strided, few input channels, and the widening same case).
const ConvGeom kThreadCases[] = {{7, 16, 28, 28, 8, 5, 1, 2}, {13, 6, 14, 14, 10, 3, 2, 1}, {3, 2, 9, 9, 4, 3, 1, 1},
                                 {5, 8, 10, 10, 12, 3, 1, 1}};

}  // namespace

TEST_CASE("parallel_for runs every task once, nested calls run inline") {
  const int before = cpu::threads();
  cpu::set_threads(2);
  std::vector<int> hits(1000, 0);
  cpu::parallel_for(10, [&](int outer) { cpu::parallel_for(100, [&](int inner) { ++hits[outer * 100 + inner]; }); });
  for (int h : hits) REQUIRE(h == 1);
  cpu::set_threads(before);
}

TEST_CASE("gemm split over threads equals the one-thread gemm bit for bit, all transposes") {
  std::mt19937 rng(31);
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (auto [M, N, K] : {std::array<int, 3>{40, 301, 100}, {333, 20, 170}, {64, 64, 64}}) {
        CAPTURE(ta);
        CAPTURE(tb);
        CAPTURE(M);
        CAPTURE(N);
        const std::vector<float> a = random_vector(static_cast<size_t>(M) * K, rng),
                                 b = random_vector(static_cast<size_t>(K) * N, rng),
                                 c0 = random_vector(static_cast<size_t>(M) * N, rng);
        same_at_every_thread_count([&] {
          std::vector<float> c = c0;
          cpu::gemm(ta, tb, M, N, K, 0.75f, a.data(), b.data(), 0.5f, c.data());
          return c;
        });
      }
}

TEST_CASE("the gemm trace records each call's shape and whether it ran inside a parallel body") {
  std::vector<float> a(6 * 4, 1.0f), b(4 * 5, 1.0f), c(6 * 5, 0.0f);
  std::vector<cpu::GemmCall> calls;
  cpu::set_gemm_trace(&calls);
  cpu::gemm(true, false, 6, 5, 4, 1.0f, a.data(), b.data(), 0.5f, c.data());
  cpu::parallel_for(3, [&](int) { cpu::gemm(false, true, 2, 3, 4, 1.0f, a.data(), b.data(), 0.0f, c.data()); });
  cpu::set_gemm_trace(nullptr);
  cpu::gemm(false, false, 1, 1, 1, 1.0f, a.data(), b.data(), 0.0f, c.data());  // after the trace: not recorded
  REQUIRE(calls.size() == 4);
  CHECK(calls[0].trans_a);
  CHECK_FALSE(calls[0].trans_b);
  CHECK(calls[0].M == 6);
  CHECK(calls[0].N == 5);
  CHECK(calls[0].K == 4);
  CHECK(calls[0].beta == 0.5f);
  CHECK_FALSE(calls[0].nested);
  for (size_t i = 1; i < calls.size(); ++i) {
    CHECK(calls[i].nested);
    CHECK(calls[i].trans_b);
    CHECK(calls[i].M == 2);
  }
}

namespace {

// A CPU convolution path: its workspace size, forward and backward (the signatures of conv_chunks.h).
struct ConvPath {
  int64_t (*workspace)(const ConvGeom&);
  void (*forward)(const ConvGeom&, const float*, const float*, const float*, float*, float*);
  void (*backward)(const ConvGeom&, const float*, const float*, const float*, float*, float*, float*, float*);
};

// path on g, on fresh random inputs: the same at every thread count, and equal to the whole-batch ops of
// engine/ops/conv2d.h (im2col + one GEMM), which sum dW and db over the batch (up to 5488 terms of size
// ~1) in another order: a float tolerance on the scale of the terms.
void check_conv_path(const ConvPath& path, const ConvGeom& g, std::mt19937& rng) {
  CAPTURE(g.n);
  CAPTURE(g.c_in);
  CAPTURE(g.h);
  CAPTURE(g.w);
  CAPTURE(g.c_out);
  CAPTURE(g.k);
  CAPTURE(g.stride);
  CAPTURE(g.pad);
  Backend be = make_backend("cpu", 3);
  const size_t nx = static_cast<size_t>(g.n) * g.c_in * g.h * g.w, ny = static_cast<size_t>(g.n) * g.c_out * g.oh() * g.ow();
  const std::vector<float> x = random_vector(nx, rng), w = random_vector(static_cast<size_t>(g.c_out) * g.col_rows(), rng),
                           b = random_vector(g.c_out, rng), dy = random_vector(ny, rng);
  auto run = [&] {
    std::vector<float> ws(path.workspace(g));  // sized for the current thread count
    std::vector<float> y(ny), dx(nx), dw(w.size(), 0.5f), db(b.size(), -0.25f);
    path.forward(g, x.data(), w.data(), b.data(), y.data(), ws.data());
    path.backward(g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), ws.data());
    return concat({&y, &dx, &dw, &db});
  };
  same_at_every_thread_count(run);

  std::vector<float> y(ny), dx(nx), dw(w.size(), 0.5f), db(b.size(), -0.25f), whole_ws(g.workspace_floats());
  conv2d_fwd(be, g, x.data(), w.data(), b.data(), y.data(), whole_ws.data());
  conv2d_bwd(be, g, x.data(), w.data(), dy.data(), dx.data(), dw.data(), db.data(), whole_ws.data());
  const std::vector<float> want = concat({&y, &dx, &dw, &db}), got = run();
  for (size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == doctest::Approx(want[i]).epsilon(1e-4).scale(1.0));

  // Each gradient alone (the others null) is the same as with the others.
  std::vector<float> dx_only(nx), dw_only(w.size(), 0.5f), db_only(b.size(), -0.25f), ws(path.workspace(g));
  path.backward(g, nullptr, w.data(), dy.data(), dx_only.data(), nullptr, nullptr, ws.data());
  path.backward(g, x.data(), w.data(), dy.data(), nullptr, dw_only.data(), nullptr, ws.data());
  path.backward(g, nullptr, w.data(), dy.data(), nullptr, nullptr, db_only.data(), ws.data());
  // got is the path's y, dx, dw, db computed together (run() above).
  const std::vector<float> alone = concat({&dx_only, &dw_only, &db_only});
  REQUIRE(got.size() == ny + alone.size());
  CHECK(std::equal(alone.begin(), alone.end(), got.begin() + static_cast<std::ptrdiff_t>(ny)));
}

// True (with a note) where the AVX-512 convolution paths (shifted-plane, Winograd) never run.
bool no_avx512_paths() {
  if (cpu::shifted_conv_enabled()) return false;
  MESSAGE("skipped: this CPU has no AVX-512 (or AMNESIA_AVX512=off), so no convolution takes this path");
  return true;
}

}  // namespace

TEST_CASE("batch-split im2col conv2d: same at every thread count, and equal to the whole-batch ops") {
  std::mt19937 rng(32);
  const ConvPath chunks{cpu::conv_chunks_workspace, cpu::conv_chunks_forward, cpu::conv_chunks_backward};
  for (const ConvGeom& g : kThreadCases) check_conv_path(chunks, g, rng);
}

TEST_CASE("shifted-plane conv2d (AVX-512): same at every thread count, and equal to the whole-batch ops") {
  if (no_avx512_paths()) return;
  std::mt19937 rng(35);
  const ConvPath shifted{cpu::shifted_conv_workspace, cpu::shifted_conv_forward, cpu::shifted_conv_backward};
  for (const ConvGeom& g : kThreadCases) check_conv_path(shifted, g, rng);
  // Every kernel size it takes, padding from none ("valid") to more than k/2, 1 to 21 channels each
  // way (row blocks of 8 and 4, and a ragged 3-column tail in dW), non-square and tiny planes; strides 2
  // and 3 (phase planes): odd and even sizes and kernels, a kernel smaller than the stride, and a phase
  // with no input pixel (stride 3 over a 2-pixel-wide image).
  const ConvGeom more[] = {{2, 3, 28, 28, 32, 5, 1, 2}, {5, 32, 14, 14, 21, 3, 1, 1}, {3, 5, 7, 7, 9, 3, 1, 0},
                           {4, 1, 6, 11, 1, 1, 1, 0},   {3, 2, 5, 5, 3, 7, 1, 3},      {2, 4, 9, 6, 12, 5, 1, 3},
                           {6, 7, 3, 3, 4, 3, 1, 2},    {1, 13, 2, 2, 17, 1, 1, 1},    {3, 1, 28, 28, 16, 3, 2, 1},
                           {4, 16, 14, 14, 32, 3, 2, 1}, {2, 3, 9, 7, 5, 3, 2, 0},      {2, 2, 11, 10, 4, 5, 2, 2},
                           {3, 3, 8, 8, 6, 4, 2, 1},    {2, 2, 7, 9, 3, 7, 2, 3},      {2, 3, 10, 11, 4, 3, 3, 1},
                           {2, 2, 6, 6, 3, 1, 2, 0},    {2, 2, 2, 5, 3, 3, 3, 1}};
  for (const ConvGeom& g : more) check_conv_path(shifted, g, rng);
}

TEST_CASE("Winograd conv2d (3x3, stride 1, pad 1; AVX-512): same at every thread count, equal to the whole-batch ops") {
  if (no_avx512_paths()) return;
  std::mt19937 rng(36);
  // The CPU convolution as the layers call it: forward and data gradient on the Winograd path, the
  // weight gradient on the shifted one. Odd and even sides (a last tile row or column half outside the
  // map), rows of tiles that need the second register (sides 17 to 30), channel counts off the kernel's
  // row blocks, and LNTL's head layer.
  const ConvPath dispatched{cpu::conv_workspace, cpu::conv_forward, cpu::conv_backward};
  const ConvGeom cases[] = {{3, 16, 14, 14, 20, 3, 1, 1}, {2, 17, 7, 7, 21, 3, 1, 1},  {2, 16, 30, 30, 16, 3, 1, 1},
                            {3, 16, 17, 5, 18, 3, 1, 1},  {2, 20, 5, 18, 17, 3, 1, 1}, {4, 32, 14, 14, 96, 3, 1, 1}};
  for (const ConvGeom& g : cases) {
    REQUIRE(cpu::winograd_conv_applies(g));
    check_conv_path(dispatched, g, rng);
  }
}

TEST_CASE("ConvTranspose2d on the CPU: same at every thread count, and equal to the whole-batch ops") {
  // 5 output channels, and 1 (as the MAE's last layer): its mirror convolution has one input channel, so
  // its data gradient (this layer's forward) goes through im2col while the rest stays shifted.
  for (int out : {5, 1}) {
    CAPTURE(out);
    Backend be = make_backend("cpu", 4);
    ParamStore p;
    ConvTranspose2d deconv(p, "deconv", 12, out, 3, 2, 1, 1);
    p.allocate(be, 9);
    std::mt19937 rng(33);
    const int n = 9, h = 7, w = 7;
    const ConvTransposeGeom g = deconv.geom(n, h, w);
    const std::vector<float> x = random_vector(static_cast<size_t>(n) * 12 * h * w, rng),
                             dy = random_vector(static_cast<size_t>(g.out_floats()), rng);
    auto layer = [&] {
      std::vector<float> y(dy.size()), dx(x.size());
      p.zero_grad(be);
      deconv.forward(be, p, x.data(), n, h, w, y.data());
      deconv.backward(be, p, x.data(), dy.data(), n, h, w, dx.data());
      std::vector<float> grads(p.grads(), p.grads() + p.size());
      return concat({&y, &dx, &grads});
    };
    same_at_every_thread_count(layer);

    std::vector<float> y(dy.size()), dx(x.size()), ws(g.workspace_floats());
    p.zero_grad(be);
    conv_transpose2d_fwd(be, g, x.data(), p.value(deconv.w), p.value(deconv.b), y.data(), ws.data());
    conv_transpose2d_bwd(be, g, x.data(), p.value(deconv.w), dy.data(), dx.data(), p.grad(deconv.w), p.grad(deconv.b),
                         ws.data());
    std::vector<float> grads(p.grads(), p.grads() + p.size());
    const std::vector<float> want = concat({&y, &dx, &grads}), got = layer();
    for (size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
  }
}

TEST_CASE("a training step of the judge and of LNTL is bit-identical at 1, 2, 3 and 4 threads") {
  std::mt19937 rng(34);
  const int n = 16;  // 4 images a slice, 2 chunks a slice in LNTL's first convolution
  const std::vector<float> pixels = random_vector(static_cast<size_t>(n) * ColoredMnist::kDim, rng, 0.0f, 1.0f);
  std::vector<int> labels(n), bins(static_cast<size_t>(n) * 3 * LntlNets::kMapPixels);
  for (int& l : labels) l = static_cast<int>(rng() % 10);
  for (int& b : bins) b = static_cast<int>(rng() % ColoredMnist::kBins);
  same_at_every_thread_count([&] {
    Backend be = make_backend("cpu", 5);
    Judge judge(be, 6);
    Buffer<float> loss(be, 1);
    judge.train_step(be, pixels.data(), labels.data(), n, 1e-3f, loss.data());
    return std::vector<float>(judge.params().values(), judge.params().values() + judge.params().size());
  });
  same_at_every_thread_count([&] {
    Backend be = make_backend("cpu", 7);
    LntlNets nets(be, 8);
    Buffer<float> losses(be, 3);
    float* l = losses.data();
    const int per_channel = static_cast<int>(bins.size()) / 3;
    nets.lntl_step(be, pixels.data(), labels.data(), bins.data(), {per_channel, per_channel, per_channel}, n, SgdHyper{},
                   LntlGame{}, {l, l + 1, l + 2});
    std::vector<float> all;
    for (ParamStore* p : {&nets.f(), &nets.g(), &nets.h()}) all.insert(all.end(), p->values(), p->values() + p->size());
    return all;
  });
}

TEST_CASE("batch norm: equal to a double-precision reference, and the same bits at every thread count") {
  std::mt19937 rng(37);
  struct Case {
    int n, c, hw;
  };
  // Planes with whole 16-float blocks and a tail; channels past one group's 128; and channels of over
  // half a megabyte each (one channel a group, several groups); a mean far from zero.
  for (const Case k : {Case{5, 7, 37}, Case{2, 200, 16}, Case{9, 3, 16005}}) {
    CAPTURE(k.n);
    CAPTURE(k.c);
    CAPTURE(k.hw);
    const size_t nx = static_cast<size_t>(k.n) * k.c * k.hw;
    const std::vector<float> x = random_vector(nx, rng, 3.0f, 7.0f), dy = random_vector(nx, rng),
                             gamma = random_vector(k.c, rng, 0.5f, 1.5f), beta = random_vector(k.c, rng);
    auto run = [&] {
      std::vector<float> y(nx), dx(nx), mean(k.c), invstd(k.c), rmean(k.c, 0.5f), rvar(k.c, 2.0f), dgamma(k.c, 1.0f),
          dbeta(k.c, -1.0f);
      cpu::batchnorm_fwd_train(x.data(), gamma.data(), beta.data(), k.n, k.c, k.hw, 1e-5f, 0.1f, y.data(), mean.data(),
                               invstd.data(), rmean.data(), rvar.data());
      cpu::batchnorm_bwd(x.data(), dy.data(), gamma.data(), mean.data(), invstd.data(), k.n, k.c, k.hw, dx.data(),
                         dgamma.data(), dbeta.data());
      return concat({&y, &dx, &mean, &invstd, &rmean, &rvar, &dgamma, &dbeta});
    };
    same_at_every_thread_count(run);

    // The reference in double: per channel mean, biased variance, y, and the three gradients.
    const double m = static_cast<double>(k.n) * k.hw;
    std::vector<float> y(nx), dx(nx), mean(k.c), invstd(k.c), rmean(k.c), rvar(k.c), dgamma(k.c), dbeta(k.c);
    for (int ch = 0; ch < k.c; ++ch) {
      const auto at = [&](int i, int p) { return (static_cast<size_t>(i) * k.c + ch) * k.hw + p; };
      double sum = 0.0, sq = 0.0, sdy = 0.0, sdyx = 0.0;
      for (int i = 0; i < k.n; ++i)
        for (int p = 0; p < k.hw; ++p) sum += x[at(i, p)];
      const double mu = sum / m;
      for (int i = 0; i < k.n; ++i)
        for (int p = 0; p < k.hw; ++p) sq += (x[at(i, p)] - mu) * (x[at(i, p)] - mu);
      const double var = sq / m, is = 1.0 / std::sqrt(var + 1e-5);
      for (int i = 0; i < k.n; ++i)
        for (int p = 0; p < k.hw; ++p) {
          const double xhat = (x[at(i, p)] - mu) * is;
          y[at(i, p)] = static_cast<float>(gamma[ch] * xhat + beta[ch]);
          sdy += dy[at(i, p)];
          sdyx += dy[at(i, p)] * xhat;
        }
      for (int i = 0; i < k.n; ++i)
        for (int p = 0; p < k.hw; ++p) {
          const double xhat = (x[at(i, p)] - mu) * is;
          dx[at(i, p)] = static_cast<float>(gamma[ch] * is * (dy[at(i, p)] - sdy / m - xhat * sdyx / m));
        }
      mean[ch] = static_cast<float>(mu);
      invstd[ch] = static_cast<float>(is);
      rmean[ch] = static_cast<float>(0.9 * 0.5 + 0.1 * mu);
      rvar[ch] = static_cast<float>(0.9 * 2.0 + 0.1 * var * m / (m - 1.0));
      dgamma[ch] = static_cast<float>(1.0 + sdyx);
      dbeta[ch] = static_cast<float>(-1.0 + sdy);
    }
    const std::vector<float> want = concat({&y, &dx, &mean, &invstd, &rmean, &rvar, &dgamma, &dbeta}), got = run();
    REQUIRE(got.size() == want.size());
    // dgamma and dbeta sum up to 144045 terms of size ~1: a tolerance on the scale of their square root.
    for (size_t i = 0; i < want.size(); ++i) REQUIRE(got[i] == doctest::Approx(want[i]).epsilon(1e-4).scale(1.0));
  }
}
