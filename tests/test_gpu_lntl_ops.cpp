// The Learning-Not-to-Learn CUDA ops against their CPU twins (SGD with momentum, batched transpose,
// softmax negative entropy, the input batch norm's folded gradients), then one whole LNTL step of the
// three nets on both devices. Helpers and conventions (NaN-poisoned outputs with a guard tail, relative
// tolerance) from tests/gpu_check.h.
#include <doctest/doctest.h>

#include "engine/ops/affine_conv_grads.h"
#include "engine/ops/sgd.h"
#include "engine/ops/softmax_entropy.h"
#include "engine/ops/transpose.h"
#include "models/lntl.h"
#include "tests/gpu_check.h"

using namespace gpu_check;

TEST_CASE("gpu sgd_step matches the CPU over three steps") {
  Backend be = gpu();
  std::mt19937 rng(401);
  const size_t n = 100003;  // not a multiple of the block
  Vec p = rand_vec(rng, n, -1, 1), buf(n, 0.0f);
  Buffer<float> dp = dev_out(be, p), dbuf = dev_out(be, buf);
  SgdHyper h;
  h.lr = 0.05f;
  for (int step = 0; step < 3; ++step) {
    const Vec g = rand_vec(rng, n, -1, 1);
    cpu::sgd_step(p.data(), g.data(), buf.data(), static_cast<int64_t>(n), h);
    Buffer<float> dg = to_dev(be, g);
    sgd_step(be, dp.data(), dg.data(), dbuf.data(), static_cast<int64_t>(n), h);
  }
  check_close(fetch(be, dp, n), p, "parameters");
  check_close(fetch(be, dbuf, n), buf, "momentum");
}

TEST_CASE("gpu batched_transpose matches the CPU") {
  Backend be = gpu();
  std::mt19937 rng(402);
  struct Shape { int batch, rows, cols; };
  for (const Shape& sh : {Shape{5, 8, 196}, Shape{3, 196, 8}, Shape{2, 33, 17}}) {
    const size_t n = static_cast<size_t>(sh.batch) * sh.rows * sh.cols;
    const Vec x = rand_vec(rng, n, -1, 1);
    Vec want(n);
    cpu::batched_transpose(x.data(), sh.batch, sh.rows, sh.cols, want.data());
    Buffer<float> dx = to_dev(be, x), dy = poisoned(be, n);
    batched_transpose(be, dx.data(), sh.batch, sh.rows, sh.cols, dy.data());
    check_close(fetch(be, dy, n), want, "transpose " + std::to_string(sh.rows) + "x" + std::to_string(sh.cols), 0);
  }
}

TEST_CASE("gpu softmax_neg_entropy matches the CPU (value and gradient)") {
  Backend be = gpu();
  std::mt19937 rng(403);
  const int rows = 128 * 196 + 5, classes = 8;
  const size_t n = static_cast<size_t>(rows) * classes;
  const Vec l = rand_vec(rng, n, -6, 6);
  Vec d(n);
  float loss = 0.75f;  // accumulated into
  cpu::softmax_neg_entropy(l.data(), rows, classes, 1.0f / rows, d.data(), &loss);
  Buffer<float> dl = to_dev(be, l), dd = poisoned(be, n), dloss = dev_scalar(be, 0.75f);
  softmax_neg_entropy(be, dl.data(), rows, classes, 1.0f / rows, dd.data(), dloss.data());
  check_close(fetch(be, dd, n), d, "gradient");
  check_close(dloss.download(be)[0], loss, "loss sum");
}

TEST_CASE("gpu affine_conv_grads matches the CPU (accumulating into every output)") {
  Backend be = gpu();
  std::mt19937 rng(404);
  const int c_out = 32, c_in = 3, taps = 25;
  const size_t nw = static_cast<size_t>(c_out) * c_in * taps;
  const Vec w = rand_vec(rng, nw, -1, 1), g = rand_vec(rng, nw, -1, 1), s = rand_vec(rng, c_out * taps, -1, 1);
  const Vec gamma = rand_vec(rng, c_in, 0.5f, 2), beta = rand_vec(rng, c_in, -1, 1);
  Vec dw = rand_vec(rng, nw, -1, 1), dgamma = rand_vec(rng, c_in, -1, 1), dbeta = rand_vec(rng, c_in, -1, 1);
  Buffer<float> d_dw = dev_out(be, dw), d_dgamma = dev_out(be, dgamma), d_dbeta = dev_out(be, dbeta);
  cpu::affine_conv_grads(w.data(), g.data(), s.data(), gamma.data(), beta.data(), c_out, c_in, taps, dw.data(),
                         dgamma.data(), dbeta.data());
  Buffer<float> dwt = to_dev(be, w), dg = to_dev(be, g), ds = to_dev(be, s);
  Buffer<float> dga = to_dev(be, gamma), dbe = to_dev(be, beta);
  affine_conv_grads(be, dwt.data(), dg.data(), ds.data(), dga.data(), dbe.data(), c_out, c_in, taps, d_dw.data(),
                    d_dgamma.data(), d_dbeta.data());
  check_close(fetch(be, d_dw, nw), dw, "dW");
  check_close(fetch(be, d_dgamma, c_in), dgamma, "dgamma");
  check_close(fetch(be, d_dbeta, c_in), dbeta, "dbeta");
}

TEST_CASE("gpu one LNTL step of f, g and h matches the CPU") {
  Backend be = gpu(), host = make_backend("cpu", 1);
  std::mt19937 rng(404);
  const int n = 6;
  Dataset gray;
  gray.count = n; gray.height = 28; gray.width = 28;
  gray.images = rand_vec(rng, static_cast<size_t>(n) * 784, -0.5f, 1.0f);
  for (float& v : gray.images) v = std::max(v, 0.0f);  // about a third black
  for (int i = 0; i < n; ++i) gray.labels.push_back(i % 10);
  const ColoredMnist d = make_colored_mnist(gray, true, 0.03f, 2, {ColoredMnist::Stroke::kGray});
  std::vector<int> idx = {0, 1, 2, 3, 4, 5}, labels(n), bins(static_cast<size_t>(n) * 3 * 196);
  Vec x(static_cast<size_t>(n) * ColoredMnist::kDim);
  const ColourBinCounts valid = gather_batch(d, idx.data(), n, x.data(), labels.data(), bins.data());

  LntlNets on_cpu(host, 7), on_dev(be, 7);
  Vec losses(3, 0.0f);
  Buffer<float> dlosses = to_dev(be, losses), dx = to_dev(be, x);
  Buffer<int> dlabels = to_dev(be, labels), dbins = to_dev(be, bins);
  SgdHyper opt;
  LntlGame game;
  game.lambda = 0.5f;
  on_cpu.lntl_step(host, x.data(), labels.data(), bins.data(), valid, n, opt, game, {&losses[0], &losses[1], &losses[2]});
  float* l = dlosses.data();
  on_dev.lntl_step(be, dx.data(), dlabels.data(), dbins.data(), valid, n, opt, game, {l, l + 1, l + 2});
  check_close(dlosses.download(be), losses, "losses", 1e-3);
  for (auto get : {&LntlNets::f, &LntlNets::g, &LntlNets::h}) {
    ParamStore& pc = (on_cpu.*get)();
    ParamStore& pd = (on_dev.*get)();
    Vec dev(pd.size());
    copy_out(be, dev.data(), pd.values(), dev.size() * sizeof(float));
    check_close(dev, Vec(pc.values(), pc.values() + pc.size()), pc.entries().front().name + "...", 1e-3);
  }
}
