// Every CUDA op against its CPU reference twin on fresh random inputs of odd sizes.
// Device outputs start POISONED (NaN) and carry a NaN guard tail, so an element the kernel forgot to
// write, or a write past the end, shows up as a failure. Accumulators (loss sums, dbias, Fisher,
// gradients) start nonzero so that += is checked, not =.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/backend.h"
#include "engine/buffer.h"
#include "engine/ops/adam.h"
#include "engine/ops/bce_logits.h"
#include "engine/ops/bias_act.h"
#include "engine/ops/concat.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/ewc.h"
#include "engine/ops/fisher.h"
#include "engine/ops/gemm.h"
#include "engine/ops/reparam_kl.h"
#include "engine/ops/rng.h"
#include "tests/gpu_check.h"

namespace {

using namespace gpu_check;

float read_scalar(const Backend& be, const Buffer<float>& b) { return b.download(be)[0]; }

const char* act_name(Act a) {
  switch (a) {
    case Act::None: return "none";
    case Act::ReLU: return "relu";
    case Act::Sigmoid: return "sigmoid";
    case Act::Tanh: return "tanh";
  }
  return "?";
}
const Act kActs[] = {Act::None, Act::ReLU, Act::Sigmoid, Act::Tanh};

}  // namespace

TEST_CASE("gpu memory: upload, download, copy and zero round-trip") {
  Backend be = gpu();
  std::mt19937 rng(101);
  const size_t n = 1001;
  Vec v = rand_vec(rng, n, -5.0f, 5.0f);
  Buffer<float> d(be, n);
  CHECK(d.device() == Device::CUDA);
  CHECK(d.download(be) == Vec(n, 0.0f));  // Buffer zero-initialises through cuda::mem_zero
  d.upload(be, v);
  CHECK(d.download(be) == v);
  Buffer<float> e(be, n);
  copy_on(be, e.data(), d.data(), n * sizeof(float));
  CHECK(e.download(be) == v);
  zero_on(be, d.data(), n * sizeof(float));
  CHECK(d.download(be) == Vec(n, 0.0f));
  std::vector<int> iv(37);
  for (int i = 0; i < 37; ++i) iv[i] = i * 7 - 100;
  CHECK(to_dev(be, iv).download(be) == iv);
  Buffer<float> empty(be, 0);
  CHECK(empty.data() == nullptr);
  backend_sync(be);
}

TEST_CASE("gpu gemm: all four transpose combinations, beta 0 and nonzero") {
  Backend be = gpu();
  std::mt19937 rng(202);
  struct Shape { int M, N, K; };
  const Shape shapes[] = {{37, 131, 53}, {1, 77, 19}, {65, 1, 300}, {129, 257, 513}};
  for (const Shape& s : shapes)
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (float beta : {0.0f, 0.5f}) {
          const float alpha = 0.75f;
          Vec A = rand_vec(rng, static_cast<size_t>(s.M) * s.K, -1.0f, 1.0f);
          Vec B = rand_vec(rng, static_cast<size_t>(s.K) * s.N, -1.0f, 1.0f);
          Vec C0 = rand_vec(rng, static_cast<size_t>(s.M) * s.N, -1.0f, 1.0f);
          // beta == 0 must overwrite C without reading it: poison the device C; the CPU gets zeros.
          Vec C = beta == 0.0f ? Vec(C0.size(), 0.0f) : C0;
          cpu::gemm(ta, tb, s.M, s.N, s.K, alpha, A.data(), B.data(), beta, C.data());
          Buffer<float> dA = to_dev(be, A), dB = to_dev(be, B);
          Buffer<float> dC = dev_out(be, beta == 0.0f ? nan_vec(C0.size()) : C0);
          cuda::gemm(ta, tb, s.M, s.N, s.K, alpha, dA.data(), dB.data(), beta, dC.data());
          std::ostringstream what;
          what << "gemm M=" << s.M << " N=" << s.N << " K=" << s.K << " ta=" << ta << " tb=" << tb << " beta=" << beta;
          check_close(fetch(be, dC, C.size()), C, what.str());
        }
}

TEST_CASE("gpu gemm: K = 0 scales C by beta") {
  Backend be = gpu();
  std::mt19937 rng(203);
  const int M = 7, N = 9;
  Vec C0 = rand_vec(rng, M * N, -1.0f, 1.0f);
  Buffer<float> dC = dev_out(be, C0);
  cuda::gemm(false, false, M, N, 0, 1.0f, nullptr, nullptr, 0.5f, dC.data());
  Vec want = C0;
  for (float& x : want) x *= 0.5f;
  check_close(fetch(be, dC, C0.size()), want, "gemm K=0 beta=0.5");
  Buffer<float> dZ = dev_out(be, nan_vec(M * N));
  cuda::gemm(true, true, M, N, 0, 1.0f, nullptr, nullptr, 0.0f, dZ.data());
  check_close(fetch(be, dZ, M * N), Vec(M * N, 0.0f), "gemm K=0 beta=0");
}

TEST_CASE("gpu bias_act_fwd: every activation, with and without bias") {
  Backend be = gpu();
  std::mt19937 rng(303);
  const int rows = 37, cols = 131;
  for (Act act : kActs)
    for (bool with_bias : {true, false}) {
      Vec y = rand_vec(rng, rows * cols, -4.0f, 4.0f);
      Vec bias = rand_vec(rng, cols, -1.0f, 1.0f);
      Buffer<float> dy = dev_out(be, y), db = to_dev(be, bias);
      cpu::bias_act_fwd(y.data(), with_bias ? bias.data() : nullptr, rows, cols, act);
      cuda::bias_act_fwd(dy.data(), with_bias ? db.data() : nullptr, rows, cols, act);
      check_close(fetch(be, dy, y.size()), y, std::string("bias_act_fwd ") + act_name(act) + (with_bias ? " +bias" : " no bias"));
    }
}

TEST_CASE("gpu bias_act_bwd: every activation, dbias accumulated or null") {
  Backend be = gpu();
  std::mt19937 rng(404);
  const int rows = 300, cols = 131;  // several row strides per block, a partial last column strip
  for (Act act : kActs)
    for (bool with_dbias : {true, false}) {
      Vec y = rand_vec(rng, rows * cols, -3.0f, 3.0f);
      cpu::bias_act_fwd(y.data(), nullptr, rows, cols, act);  // a realistic forward output (relu zeros etc.)
      Vec dy = rand_vec(rng, rows * cols, -1.0f, 1.0f);
      Vec dbias = rand_vec(rng, cols, -2.0f, 2.0f);  // nonzero: checks +=
      Buffer<float> d_dy = dev_out(be, dy), d_y = to_dev(be, y), d_db = dev_out(be, dbias);
      cpu::bias_act_bwd(dy.data(), y.data(), with_dbias ? dbias.data() : nullptr, rows, cols, act);
      cuda::bias_act_bwd(d_dy.data(), d_y.data(), with_dbias ? d_db.data() : nullptr, rows, cols, act);
      const std::string what = std::string("bias_act_bwd ") + act_name(act) + (with_dbias ? " +dbias" : " no dbias");
      check_close(fetch(be, d_dy, dy.size()), dy, what + " dy");
      check_close(fetch(be, d_db, dbias.size()), dbias, what + " dbias");
    }
}

TEST_CASE("gpu concat_cols and slice_cols") {
  Backend be = gpu();
  std::mt19937 rng(505);
  const int rows = 37, ca = 131, cb = 10, cout = ca + cb;
  Vec a = rand_vec(rng, rows * ca, -1.0f, 1.0f), b = rand_vec(rng, rows * cb, -1.0f, 1.0f);
  Vec out(rows * cout);
  cpu::concat_cols(a.data(), ca, b.data(), cb, rows, out.data());
  Buffer<float> da = to_dev(be, a), db = to_dev(be, b), dout = dev_out(be, nan_vec(out.size()));
  cuda::concat_cols(da.data(), ca, db.data(), cb, rows, dout.data());
  check_close(fetch(be, dout, out.size()), out, "concat_cols");

  Buffer<float> dsrc = to_dev(be, out);
  struct Slice { int offset, ncols; };
  for (Slice s : {Slice{0, ca}, Slice{ca, cb}, Slice{7, 50}, Slice{cout - 1, 1}}) {
    Vec dst(rows * s.ncols);
    cpu::slice_cols(out.data(), cout, s.offset, s.ncols, rows, dst.data());
    Buffer<float> ddst = dev_out(be, nan_vec(dst.size()));
    cuda::slice_cols(dsrc.data(), cout, s.offset, s.ncols, rows, ddst.data());
    check_close(fetch(be, ddst, dst.size()), dst, "slice_cols offset=" + std::to_string(s.offset) + " ncols=" + std::to_string(s.ncols));
  }
}

TEST_CASE("gpu onehot writes ones and zeros (all-zero rows for labels out of range, as on the CPU)") {
  Backend be = gpu();
  std::mt19937 rng(606);
  const int rows = 37, nclass = 10;
  std::vector<int> labels(rows);
  std::uniform_int_distribution<int> pick(0, nclass - 1);
  for (int& l : labels) l = pick(rng);
  labels[0] = 0;
  labels[rows - 1] = nclass - 1;
  labels[5] = nclass;  // out of range: a zero row on both devices (engine/ops/concat.h)
  labels[6] = -1;
  Vec out(rows * nclass);
  cpu::onehot(labels.data(), rows, nclass, out.data());
  Buffer<int> dl = to_dev(be, labels);
  Buffer<float> dout = dev_out(be, nan_vec(out.size()));  // zeros must be written, not assumed
  cuda::onehot(dl.data(), rows, nclass, dout.data());
  check_close(fetch(be, dout, out.size()), out, "onehot");
}

TEST_CASE("gpu gather_rows") {
  Backend be = gpu();
  std::mt19937 rng(707);
  const int nsrc = 1000, cols = 131, rows = 37;
  Vec src = rand_vec(rng, static_cast<size_t>(nsrc) * cols, -1.0f, 1.0f);
  std::vector<int> idx(rows);
  std::uniform_int_distribution<int> pick(0, nsrc - 1);
  for (int& i : idx) i = pick(rng);
  idx[0] = nsrc - 1;  // the last row
  idx[1] = idx[2];    // a repeat
  Vec dst(rows * cols);
  cpu::gather_rows(src.data(), cols, idx.data(), rows, dst.data());
  Buffer<float> dsrc = to_dev(be, src), ddst = dev_out(be, nan_vec(dst.size()));
  Buffer<int> didx = to_dev(be, idx);
  cuda::gather_rows(dsrc.data(), cols, didx.data(), rows, ddst.data());
  check_close(fetch(be, ddst, dst.size()), dst, "gather_rows");
}

namespace {
Vec encoder_head(std::mt19937& rng, int rows, int zdim) {
  Vec h(static_cast<size_t>(rows) * 2 * zdim);
  std::uniform_real_distribution<float> mu(-2.0f, 2.0f), lv(-3.0f, 2.0f);
  for (int r = 0; r < rows; ++r)
    for (int j = 0; j < zdim; ++j) {
      h[static_cast<size_t>(r) * 2 * zdim + j] = mu(rng);
      h[static_cast<size_t>(r) * 2 * zdim + zdim + j] = lv(rng);
    }
  return h;
}
}  // namespace

TEST_CASE("gpu reparam_kl_fwd: z and the KL sum (+=, or null)") {
  Backend be = gpu();
  std::mt19937 rng(808);
  struct Shape { int rows, zdim; };
  for (Shape s : {Shape{37, 13}, Shape{2001, 20}})  // the second spans many blocks (several atomics)
    for (bool with_kl : {true, false}) {
      const float kl_scale = 0.7f;
      Vec h = encoder_head(rng, s.rows, s.zdim);
      Vec eps = rand_vec(rng, static_cast<size_t>(s.rows) * s.zdim, -2.5f, 2.5f);
      Vec z(eps.size());
      float kl = 2.5f;
      cpu::reparam_kl_fwd(h.data(), eps.data(), s.rows, s.zdim, kl_scale, z.data(), with_kl ? &kl : nullptr);
      Buffer<float> dh = to_dev(be, h), deps = to_dev(be, eps), dz = dev_out(be, nan_vec(z.size()));
      Buffer<float> dkl = dev_scalar(be, 2.5f);
      cuda::reparam_kl_fwd(dh.data(), deps.data(), s.rows, s.zdim, kl_scale, dz.data(), with_kl ? dkl.data() : nullptr);
      const std::string what = "reparam_kl_fwd rows=" + std::to_string(s.rows) + (with_kl ? " kl" : " no kl");
      check_close(fetch(be, dz, z.size()), z, what + " z");
      check_close(read_scalar(be, dkl), kl, what + " kl_sum");
    }
}

TEST_CASE("gpu reparam_kl_bwd: with dz and KL-only (dz null)") {
  Backend be = gpu();
  std::mt19937 rng(909);
  const int rows = 37, zdim = 13;
  for (bool with_dz : {true, false}) {
    const float kl_scale = 1.3f;
    Vec h = encoder_head(rng, rows, zdim);
    Vec eps = rand_vec(rng, rows * zdim, -2.5f, 2.5f);
    Vec gz = rand_vec(rng, rows * zdim, -1.0f, 1.0f);
    Vec dh(h.size());
    cpu::reparam_kl_bwd(h.data(), eps.data(), with_dz ? gz.data() : nullptr, rows, zdim, kl_scale, dh.data());
    Buffer<float> d_h = to_dev(be, h), d_eps = to_dev(be, eps), d_gz = to_dev(be, gz);
    Buffer<float> d_dh = dev_out(be, nan_vec(dh.size()));  // dh is written, both halves
    cuda::reparam_kl_bwd(d_h.data(), d_eps.data(), with_dz ? d_gz.data() : nullptr, rows, zdim, kl_scale, d_dh.data());
    check_close(fetch(be, d_dh, dh.size()), dh, with_dz ? "reparam_kl_bwd dz" : "reparam_kl_bwd dz=null");
  }
}

TEST_CASE("gpu bce_logits: loss sum (+=) and gradient, each optional") {
  Backend be = gpu();
  std::mt19937 rng(1010);
  for (int64_t n : {int64_t{37 * 131}, int64_t{(1 << 20) + 3}})
    for (int mode = 0; mode < 3; ++mode) {  // 0: both, 1: dlogits null, 2: loss_sum null
      const bool with_grad = mode != 1, with_loss = mode != 2;
      const float scale = 0.5f;
      Vec logits = rand_vec(rng, n, -30.0f, 30.0f);  // wide: exercises the stable form
      for (int64_t i = 0; i < std::min<int64_t>(n, 64); ++i) logits[i] = (i % 2 ? 1.0f : -1.0f) * (80.0f + i);
      Vec target = rand_vec(rng, n, 0.0f, 1.0f);
      Vec grad(n);
      float loss = 1.5f;
      cpu::bce_logits(logits.data(), target.data(), n, scale, with_grad ? grad.data() : nullptr, with_loss ? &loss : nullptr);
      Buffer<float> dl = to_dev(be, logits), dt = to_dev(be, target), dg = dev_out(be, nan_vec(n));
      Buffer<float> dloss = dev_scalar(be, 1.5f);
      cuda::bce_logits(dl.data(), dt.data(), n, scale, with_grad ? dg.data() : nullptr, with_loss ? dloss.data() : nullptr);
      const std::string what = "bce_logits n=" + std::to_string(n) + " mode=" + std::to_string(mode);
      if (with_grad) check_close(fetch(be, dg, n), grad, what + " dlogits");
      check_close(read_scalar(be, dloss), with_loss ? loss : 1.5f, what + " loss_sum");
    }
}

TEST_CASE("gpu adam_step: three steps with weight decay") {
  Backend be = gpu();
  std::mt19937 rng(1111);
  const int64_t n = 100003;
  AdamHyper h;
  h.lr = 0.1f;  // large, so the update is far above the comparison tolerance
  h.weight_decay = 0.01f;
  Vec p = rand_vec(rng, n, -1.0f, 1.0f), m = rand_vec(rng, n, -0.1f, 0.1f), v = rand_vec(rng, n, 0.0f, 0.01f);
  Buffer<float> dp = dev_out(be, p), dm = dev_out(be, m), dv = dev_out(be, v);
  for (int step = 1; step <= 3; ++step) {
    Vec g = rand_vec(rng, n, -1.0f, 1.0f);
    Buffer<float> dg = to_dev(be, g);
    cpu::adam_step(p.data(), g.data(), m.data(), v.data(), n, h, step);
    cuda::adam_step(dp.data(), dg.data(), dm.data(), dv.data(), n, h, step);
  }
  check_close(fetch(be, dp, n), p, "adam p");
  check_close(fetch(be, dm, n), m, "adam m");
  check_close(fetch(be, dv, n), v, "adam v");
}

TEST_CASE("gpu fill, axpy, scale_copy") {
  Backend be = gpu();
  std::mt19937 rng(1212);
  const int64_t n = (1 << 20) + 7;  // more than one grid-stride sweep at the capped grid size
  Buffer<float> df = dev_out(be, nan_vec(n));
  cuda::fill(df.data(), n, -0.25f);
  check_close(fetch(be, df, n), Vec(n, -0.25f), "fill");

  Vec x = rand_vec(rng, n, -1.0f, 1.0f), y = rand_vec(rng, n, -1.0f, 1.0f);
  Buffer<float> dx = to_dev(be, x), dy = dev_out(be, y);
  cpu::axpy(n, 1.75f, x.data(), y.data());
  cuda::axpy(n, 1.75f, dx.data(), dy.data());
  check_close(fetch(be, dy, n), y, "axpy");

  Vec s(n);
  cpu::scale_copy(n, -3.0f, x.data(), s.data());
  Buffer<float> ds = dev_out(be, nan_vec(n));
  cuda::scale_copy(n, -3.0f, dx.data(), ds.data());
  check_close(fetch(be, ds, n), s, "scale_copy");

  Buffer<float> dxx = dev_out(be, x);  // in place, as gemm's K = 0 path uses it
  cuda::scale_copy(n, -3.0f, dxx.data(), dxx.data());
  check_close(fetch(be, dxx, n), s, "scale_copy in place");
}

namespace {
struct Moments { double mean, var, lo, hi; };
Moments moments(const Vec& v) {
  double s = 0.0, s2 = 0.0, lo = v[0], hi = v[0];
  for (float x : v) {
    s += x;
    s2 += static_cast<double>(x) * x;
    lo = std::min<double>(lo, x);
    hi = std::max<double>(hi, x);
  }
  const double mean = s / v.size();
  return {mean, s2 / v.size() - mean * mean, lo, hi};
}
using RngFn = void (*)(float*, int64_t, uint64_t, uint64_t);
Vec draw(const Backend& be, RngFn fn, int64_t n, uint64_t seed, uint64_t offset) {
  Buffer<float> d = dev_out(be, nan_vec(n));
  fn(d.data(), n, seed, offset);
  return fetch(be, d, n);
}
size_t count_equal(const Vec& a, const Vec& b) {
  size_t k = 0;
  for (size_t i = 0; i < a.size(); ++i) k += a[i] == b[i];
  return k;
}
// The stream is a function of (seed, offset + i) only: same call twice is identical, a call shifted
// by 3 reproduces the tail, another offset or seed gives different numbers.
void check_counter_based(const Backend& be, RngFn fn, const char* name) {
  const int64_t n = 100001;
  const uint64_t seed = 0x5eedULL, offset = (1ULL << 33) + 77;  // offset above 2^32: both counter words used
  Vec a = draw(be, fn, n, seed, offset), b = draw(be, fn, n, seed, offset);
  CHECK_MESSAGE(std::memcmp(a.data(), b.data(), n * sizeof(float)) == 0, name << ": same seed+offset not identical");
  Vec shifted = draw(be, fn, n - 3, seed, offset + 3);
  CHECK_MESSAGE(std::memcmp(shifted.data(), a.data() + 3, (n - 3) * sizeof(float)) == 0,
                name << ": element i depends on more than (seed, offset + i)");
  Vec other_off = draw(be, fn, n, seed, offset + n), other_seed = draw(be, fn, n, seed + 1, offset);
  CHECK_MESSAGE(count_equal(a, other_off) < static_cast<size_t>(n / 100), name << ": different offset, same numbers");
  CHECK_MESSAGE(count_equal(a, other_seed) < static_cast<size_t>(n / 100), name << ": different seed, same numbers");
}
}  // namespace

TEST_CASE("gpu rng uniform: range, moments, counter-based determinism") {
  Backend be = gpu();
  const int64_t n = (1 << 20) + 5;
  Vec u = draw(be, cuda::uniform, n, 42, 1234567);
  Moments mo = moments(u);
  CHECK(mo.lo >= 0.0);
  CHECK(mo.hi < 1.0);
  CHECK(std::fabs(mo.mean - 0.5) < 0.003);         // sd of the mean ~ 2.8e-4
  CHECK(std::fabs(mo.var - 1.0 / 12.0) < 0.002);   // sd of the variance ~ 7e-5
  check_counter_based(be, cuda::uniform, "uniform");
}

TEST_CASE("gpu rng normal: moments, finiteness, counter-based determinism") {
  Backend be = gpu();
  const int64_t n = (1 << 20) + 5;
  Vec z = draw(be, cuda::normal, n, 42, 1234567);
  size_t finite = 0, tail = 0;
  for (float x : z) {
    finite += std::isfinite(x);
    tail += std::fabs(x) > 3.0f;
  }
  CHECK(finite == z.size());
  Moments mo = moments(z);
  CHECK(std::fabs(mo.mean) < 0.005);        // sd of the mean ~ 1e-3
  CHECK(std::fabs(mo.var - 1.0) < 0.01);    // sd of the variance ~ 1.4e-3
  const double tail_frac = static_cast<double>(tail) / n;  // 0.0027 for N(0,1)
  CHECK(tail_frac > 0.0020);
  CHECK(tail_frac < 0.0034);
  check_counter_based(be, cuda::normal, "normal");
}

// Not required by the interface, but true by construction (kernels/rng.cu uses the CPU twin's
// counter -> number mapping): CPU and CUDA runs draw the same random stream.
TEST_CASE("gpu rng: the CUDA stream equals the CPU twin's stream") {
  Backend be = gpu();
  const int64_t n = 100003;
  const uint64_t seed = 7, offset = 4093;
  Vec cu(n), cn(n);
  cpu::uniform(cu.data(), n, seed, offset);
  cpu::normal(cn.data(), n, seed, offset);
  Vec gu = draw(be, cuda::uniform, n, seed, offset);
  CHECK_MESSAGE(std::memcmp(gu.data(), cu.data(), n * sizeof(float)) == 0, "uniform: CUDA and CPU streams differ");
  check_close(draw(be, cuda::normal, n, seed, offset), cn, "normal vs cpu stream", 1e-5);
}

TEST_CASE("gpu fisher_accumulate: += into weights and bias, odd shapes") {
  Backend be = gpu();
  std::mt19937 rng(1313);
  struct Shape { int rows, out, in; };
  for (Shape s : {Shape{37, 53, 131}, Shape{300, 10, 794}, Shape{5, 33, 1}, Shape{64, 32, 32}}) {
    const float scale = 1.0f / s.rows;
    Vec delta = rand_vec(rng, static_cast<size_t>(s.rows) * s.out, -1.0f, 1.0f);
    Vec a = rand_vec(rng, static_cast<size_t>(s.rows) * s.in, -1.0f, 1.0f);
    Vec fw = rand_vec(rng, static_cast<size_t>(s.out) * s.in, 0.0f, 1.0f);  // nonzero: checks +=
    Vec fb = rand_vec(rng, s.out, 0.0f, 1.0f);
    Buffer<float> dd = to_dev(be, delta), da = to_dev(be, a), dfw = dev_out(be, fw), dfb = dev_out(be, fb);
    Buffer<float> dfw2 = dev_out(be, fw);
    cuda::fisher_accumulate(dd.data(), da.data(), s.rows, s.out, s.in, scale, dfw.data(), dfb.data());
    cuda::fisher_accumulate(dd.data(), da.data(), s.rows, s.out, s.in, scale, dfw2.data(), nullptr);  // weights only
    cpu::fisher_accumulate(delta.data(), a.data(), s.rows, s.out, s.in, scale, fw.data(), fb.data());
    const std::string what = "fisher rows=" + std::to_string(s.rows) + " out=" + std::to_string(s.out) +
                             " in=" + std::to_string(s.in);
    check_close(fetch(be, dfw, fw.size()), fw, what + " weights");
    check_close(fetch(be, dfb, fb.size()), fb, what + " bias");
    check_close(fetch(be, dfw2, fw.size()), fw, what + " weights (bias null)");
  }
}

TEST_CASE("gpu ewc_penalty_and_grad: penalty (+=, or null) and gradient (+=)") {
  Backend be = gpu();
  std::mt19937 rng(1414);
  const int64_t n = (1 << 20) + 5;
  for (bool with_penalty : {true, false}) {
    const float lambda = 100.0f;
    Vec theta = rand_vec(rng, n, -1.0f, 1.0f);
    Vec star = theta, noise = rand_vec(rng, n, -0.1f, 0.1f);
    for (int64_t i = 0; i < n; ++i) star[i] += noise[i];
    Vec fisher = rand_vec(rng, n, 0.0f, 0.01f);
    Vec grad = rand_vec(rng, n, -1.0f, 1.0f);  // nonzero: checks +=
    float penalty = 1.25f;
    Buffer<float> dt = to_dev(be, theta), ds = to_dev(be, star), df = to_dev(be, fisher), dg = dev_out(be, grad);
    Buffer<float> dpen = dev_scalar(be, 1.25f);
    cpu::ewc_penalty_and_grad(theta.data(), star.data(), fisher.data(), n, lambda, grad.data(),
                              with_penalty ? &penalty : nullptr);
    cuda::ewc_penalty_and_grad(dt.data(), ds.data(), df.data(), n, lambda, dg.data(), with_penalty ? dpen.data() : nullptr);
    const std::string what = with_penalty ? "ewc" : "ewc penalty=null";
    check_close(fetch(be, dg, n), grad, what + " grad");
    check_close(read_scalar(be, dpen), penalty, what + " penalty");
  }
}
