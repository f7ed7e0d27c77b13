// Learning Not to Learn on the CPU: the new ops (SGD with momentum, batched transpose, softmax negative
// entropy) against hand computations and finite differences; the whole f->g (with h's entropy) and
// f->h backward passes against finite differences; the gradient-reversal sign; checkpoints; the config
// file; and short training runs on synthetic Colored MNIST that must reduce their losses.
#include <doctest/doctest.h>

#include <fstream>

#include "engine/config.h"
#include "engine/ops/sgd.h"
#include "engine/ops/softmax_entropy.h"
#include "engine/ops/transpose.h"
#include "experiments/lntl/lntl_train.h"
#include "tests/gradcheck.h"
#include "tests/temp_dir.h"

namespace {
Backend cpu_backend() { return make_backend("cpu", 11); }

// Gray "digits" a small net can tell apart by shape: class k is a 6x6 square at its own place.
Dataset square_digits(int count, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::uniform_int_distribution<int> jitter(-1, 1);
  Dataset d;
  d.count = count; d.height = 28; d.width = 28;
  d.images.assign(static_cast<size_t>(count) * 784, 0.0f);
  for (int i = 0; i < count; ++i) {
    const int label = i % 10;
    d.labels.push_back(label);
    const int y0 = 3 + (label / 4) * 8 + jitter(rng), x0 = 3 + (label % 4) * 6 + jitter(rng);
    for (int y = y0; y < y0 + 6; ++y)
      for (int x = x0; x < x0 + 5; ++x) d.images[static_cast<size_t>(i) * 784 + y * 28 + x] = 1.0f;
  }
  return d;
}

// One random-noise colour image (no ties inside max-pool windows) and its gathered bins.
struct TinyBatch {
  std::vector<float> x;
  std::vector<int> labels, bins;
  ColourBinCounts valid{};
};
TinyBatch tiny_batch(int n) {
  Dataset gray;
  gray.count = n; gray.height = 28; gray.width = 28;
  std::mt19937 rng(17);
  gray.images = random_vector(static_cast<size_t>(n) * 784, rng, 0.0f, 1.0f);
  for (int i = 0; i < n * 784; i += 3) gray.images[i] = 0.0f;  // some black pixels to ignore
  for (int i = 0; i < n; ++i) gray.labels.push_back((3 * i + 4) % 10);
  // Gray strokes keep the noise (binary strokes would give flat regions and max-pool ties).
  const ColoredMnist d = make_colored_mnist(gray, true, 0.03f, 5, {ColoredMnist::Stroke::kGray});
  TinyBatch b;
  b.x.resize(static_cast<size_t>(n) * ColoredMnist::kDim);
  b.labels.resize(n);
  b.bins.resize(static_cast<size_t>(n) * 3 * ColoredMnist::kBinPixels);
  std::vector<int> idx(n);
  for (int i = 0; i < n; ++i) idx[i] = i;
  b.valid = gather_batch(d, idx.data(), n, b.x.data(), b.labels.data(), b.bins.data());
  return b;
}

std::vector<float> grads_of(const ParamStore& p) { return std::vector<float>(p.grads(), p.grads() + p.size()); }

// Zeroes the stores' grads, runs loss once for the analytic gradients (snapshotted: every later call
// accumulates into the grads again), then checks a few entries of every tensor of every store against
// finite differences.
void check_backward(const Backend& be, const std::vector<ParamStore*>& stores, const std::function<double()>& loss) {
  for (ParamStore* p : stores) p->zero_grad(be);
  loss();
  std::vector<std::vector<float>> analytic;
  for (ParamStore* p : stores) analytic.push_back(grads_of(*p));
  for (size_t k = 0; k < stores.size(); ++k)
    for (const ParamEntry& e : stores[k]->entries()) {
      CAPTURE(e.name);
      check_gradient(loss, stores[k]->values() + e.offset, analytic[k].data() + e.offset, e.size, 5, 1e-3f, 2e-2);
    }
}
}  // namespace

TEST_CASE("lntl: sgd_step is PyTorch's SGD with momentum and weight decay") {
  SgdHyper h;
  h.lr = 0.1f; h.momentum = 0.9f; h.weight_decay = 0.01f;
  std::vector<float> p = {1.0f, -2.0f}, g = {0.5f, 0.25f}, buf(2, 0.0f);
  cpu::sgd_step(p.data(), g.data(), buf.data(), 2, h);
  // Step 1: buf = g + wd p (PyTorch seeds the buffer with it), p -= lr buf.
  const float b1 = 0.5f + 0.01f * 1.0f, q1 = 1.0f - 0.1f * b1;
  CHECK(buf[0] == doctest::Approx(b1));
  CHECK(p[0] == doctest::Approx(q1));
  cpu::sgd_step(p.data(), g.data(), buf.data(), 2, h);
  const float b2 = 0.9f * b1 + (0.5f + 0.01f * q1);
  CHECK(buf[0] == doctest::Approx(b2));
  CHECK(p[0] == doctest::Approx(q1 - 0.1f * b2));
  CHECK(p[1] == doctest::Approx(-2.0f - 0.1f * (0.25f - 0.02f) - 0.1f * (0.9f * (0.25f - 0.02f) + 0.25f +
                                                                           0.01f * (-2.0f - 0.1f * 0.23f))));
}

TEST_CASE("lntl: batched_transpose moves channels last and back") {
  std::mt19937 rng(2);
  const int batch = 3, rows = 4, cols = 7;
  std::vector<float> x = random_vector(batch * rows * cols, rng), t(x.size()), back(x.size());
  cpu::batched_transpose(x.data(), batch, rows, cols, t.data());
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < rows; ++i)
      for (int j = 0; j < cols; ++j) REQUIRE(t[(b * cols + j) * rows + i] == x[(b * rows + i) * cols + j]);
  cpu::batched_transpose(t.data(), batch, cols, rows, back.data());
  CHECK(back == x);
}

TEST_CASE("lntl: softmax negative entropy, its value and its gradient") {
  std::mt19937 rng(3);
  const int rows = 5, classes = 8;
  std::vector<float> l = random_vector(rows * classes, rng, -3.0f, 3.0f), d(l.size());
  l[3] = 60.0f;  // a near one-hot row: p log p must stay finite
  float value = 0.5f;  // accumulated into
  cpu::softmax_neg_entropy(l.data(), rows, classes, 0.25f, d.data(), &value);
  double want = 0;
  for (int r = 0; r < rows; ++r) {
    double z = 0;
    for (int j = 0; j < classes; ++j) z += std::exp(static_cast<double>(l[r * classes + j]));
    for (int j = 0; j < classes; ++j) {
      const double p = std::exp(static_cast<double>(l[r * classes + j])) / z;
      if (p > 0) want += p * std::log(p);
    }
  }
  CHECK(value == doctest::Approx(0.5 + 0.25 * want).epsilon(1e-5));
  auto loss = [&] {
    float v = 0.0f;
    cpu::softmax_neg_entropy(l.data(), rows, classes, 0.25f, nullptr, &v);
    return static_cast<double>(v);
  };
  check_gradient(loss, l.data(), d.data(), l.size(), 40, 1e-2f, 1e-2);
  // Uniform logits: the maximum entropy, -log 8, where the gradient vanishes.
  std::vector<float> flat(classes, 1.5f), dflat(classes, 9.0f);
  float v = 0.0f;
  cpu::softmax_neg_entropy(flat.data(), 1, classes, 1.0f, dflat.data(), &v);
  CHECK(v == doctest::Approx(-std::log(8.0)));
  for (float g : dflat) CHECK(std::fabs(g) < 1e-6f);
}

TEST_CASE("lntl: f->g backward with h's entropy term matches finite differences") {
  Backend be = cpu_backend();
  LntlNets nets(be, 3);
  const TinyBatch b = tiny_batch(1);
  const float lambda = 1.0f;  // large, so the entropy path through h into f weighs as much as the CE
  float ce = 0.0f, ent = 0.0f;
  const LntlLosses losses{&ce, &ent, nullptr};
  auto loss = [&] {
    ce = ent = 0.0f;
    nets.digit_forward_backward(be, b.x.data(), b.labels.data(), 1, lambda, losses);
    return static_cast<double>(ce) + ent;
  };
  check_backward(be, {&nets.f(), &nets.g()}, loss);
  // Step (1) never moves h, so its convolutions' gradients are not even computed.
  nets.h().zero_grad(be);
  loss();
  int nonzero = 0, checked = 0;
  for (const ParamEntry& e : nets.h().entries())
    if (e.name.find("conv") != std::string::npos)
      for (size_t i = 0; i < e.size; ++i, ++checked) nonzero += nets.h().grads()[e.offset + i] != 0.0f;
  CHECK(checked > 0);
  CHECK(nonzero == 0);
  CHECK(ent < 0.0f);
  CHECK(ent > -std::log(8.0f) - 1e-4f);
}

TEST_CASE("lntl: f->h backward of the colour cross-entropy matches finite differences") {
  Backend be = cpu_backend();
  LntlNets nets(be, 4);
  const TinyBatch b = tiny_batch(1);
  for (int v : b.valid) REQUIRE(v > 0);
  float col = 0.0f;
  const LntlLosses losses{nullptr, nullptr, &col};
  auto loss = [&] {
    col = 0.0f;
    nets.colour_forward_backward(be, b.x.data(), b.bins.data(), b.valid, 1, 1.0f, losses);
    return static_cast<double>(col);
  };
  check_backward(be, {&nets.h(), &nets.f()}, loss);
  CHECK(col > 3.0f);  // about 3 log 8 for untrained heads
}

TEST_CASE("lntl: the gradient reversal hands f exactly -mu times h's gradient, h its own") {
  Backend be = cpu_backend();
  LntlNets nets(be, 5);
  const TinyBatch b = tiny_batch(3);
  const LntlLosses none;
  auto grads = [&](float scale) {
    nets.f().zero_grad(be);
    nets.h().zero_grad(be);
    nets.colour_forward_backward(be, b.x.data(), b.bins.data(), b.valid, 3, scale, none);
    return std::make_pair(grads_of(nets.f()), grads_of(nets.h()));
  };
  const float mu = 0.1f;
  const auto plain = grads(1.0f), reversed = grads(-mu);
  // Equal up to float rounding, which is relative to the largest gradient (the backward sums terms).
  float largest = 0.0f;
  for (float g : plain.first) largest = std::max(largest, std::fabs(g));
  CHECK(largest > 1e-4f);
  for (size_t i = 0; i < plain.first.size(); ++i)
    REQUIRE(std::fabs(reversed.first[i] + mu * plain.first[i]) <= 1e-5f * mu * largest);
  for (size_t i = 0; i < plain.second.size(); ++i) REQUIRE(reversed.second[i] == doctest::Approx(plain.second[i]));
}

TEST_CASE("lntl: g_in_colour_step moves g in step (2) by its momentum and weight decay alone, nothing else") {
  Backend be = cpu_backend();
  LntlNets off(be, 5), on(be, 5);
  const TinyBatch b = tiny_batch(3);
  const std::vector<float> g0(off.g().values(), off.g().values() + off.g().size());
  SgdHyper opt;
  opt.lr = 0.05f; opt.momentum = 0.9f; opt.weight_decay = 0.01f;
  LntlGame coast;
  coast.g_in_colour_step = true;
  off.lntl_step(be, b.x.data(), b.labels.data(), b.bins.data(), b.valid, 3, opt, LntlGame{}, LntlLosses{});
  on.lntl_step(be, b.x.data(), b.labels.data(), b.bins.data(), b.valid, 3, opt, coast, LntlLosses{});
  CHECK(std::equal(on.f().values(), on.f().values() + on.f().size(), off.f().values()));
  CHECK(std::equal(on.h().values(), on.h().values() + on.h().size(), off.h().values()));
  // Without the flag g's grads still hold step (1)'s gradient, whose SGD step seeded the momentum buffer
  // with grad + wd * g0; with it, g then coasts: g -= lr * (momentum * buffer + wd * g).
  int moved = 0;
  for (size_t i = 0; i < g0.size(); ++i) {
    const float g1 = off.g().values()[i], buffer = off.g().grads()[i] + opt.weight_decay * g0[i];
    const float expected = g1 - opt.lr * (opt.momentum * buffer + opt.weight_decay * g1);
    REQUIRE(on.g().values()[i] == doctest::Approx(expected).epsilon(1e-5));
    moved += on.g().values()[i] != g1;
  }
  CHECK(moved > static_cast<int>(g0.size()) / 2);
}

TEST_CASE("lntl: h_lr_scale scales h's first step and nothing else") {
  // f's reversed gradient in step (2) is taken before h moves, so f and g must not depend on h's lr; from
  // zero momentum h's first displacement is -lr x scale x (grad + wd x h0), i.e. scale times the plain one.
  Backend be = cpu_backend();
  LntlNets plain(be, 9), scaled(be, 9);
  const TinyBatch b = tiny_batch(3);
  const std::vector<float> h0(plain.h().values(), plain.h().values() + plain.h().size());
  SgdHyper opt;
  opt.lr = 0.05f;
  LntlGame fast;
  fast.h_lr_scale = 3.0f;
  plain.lntl_step(be, b.x.data(), b.labels.data(), b.bins.data(), b.valid, 3, opt, LntlGame{}, LntlLosses{});
  scaled.lntl_step(be, b.x.data(), b.labels.data(), b.bins.data(), b.valid, 3, opt, fast, LntlLosses{});
  CHECK(std::equal(scaled.f().values(), scaled.f().values() + scaled.f().size(), plain.f().values()));
  CHECK(std::equal(scaled.g().values(), scaled.g().values() + scaled.g().size(), plain.g().values()));
  int moved = 0;
  for (size_t i = 0; i < h0.size(); ++i) {
    const float step = plain.h().values()[i] - h0[i];
    REQUIRE(scaled.h().values()[i] - h0[i] == doctest::Approx(3.0f * step).epsilon(1e-4).scale(1e-2));
    moved += step != 0.0f;
  }
  CHECK(moved > static_cast<int>(h0.size()) / 2);
}

TEST_CASE("lntl: each colour head has its own parameters and statistics inside the merged first layer") {
  // The three heads' conv1 and batch norm run as one 96-channel layer. With only one head's pixels
  // labelled, only that head's parameters may receive a gradient, and moving the other heads' parameters
  // must leave its loss exactly as it was. Three images: in each channel some image has labelled pixels.
  Backend be = cpu_backend();
  LntlNets nets(be, 12);
  TinyBatch b = tiny_batch(3);
  const std::string names[3] = {"h.r.", "h.g.", "h.b."};
  for (int head = 0; head < 3; ++head) {
    CAPTURE(head);
    ColourBinCounts only{};
    only[head] = b.valid[head];
    REQUIRE(only[head] > 0);
    auto loss_of_head = [&] {
      float loss = 0.0f;
      nets.h().zero_grad(be);
      nets.colour_forward_backward(be, b.x.data(), b.bins.data(), only, 3, 1.0f, {nullptr, nullptr, &loss});
      return loss;
    };
    const float before = loss_of_head();
    for (const ParamEntry& e : nets.h().entries()) {
      CAPTURE(e.name);
      float largest = 0.0f;
      for (size_t i = 0; i < e.size; ++i) largest = std::max(largest, std::fabs(nets.h().grads()[e.offset + i]));
      if (e.name.rfind(names[head], 0) == 0) CHECK(largest > 0.0f);
      else CHECK(largest == 0.0f);
    }
    const std::vector<float> saved(nets.h().values(), nets.h().values() + nets.h().size());
    for (const ParamEntry& e : nets.h().entries())
      if (e.name.rfind(names[head], 0) != 0)
        for (size_t i = 0; i < e.size; ++i) nets.h().values()[e.offset + i] += 0.5f;
    CHECK(loss_of_head() == before);
    std::copy(saved.begin(), saved.end(), nets.h().values());
  }
  // Checkpoints keep PyTorch's per-head names and sizes for the running statistics, each head its own.
  TempDir dir("lntl_heads");
  nets.save(be, dir / "h.safetensors", true);
  const std::vector<NamedTensor> ts = load_safetensors(dir / "h.safetensors");
  std::vector<std::vector<float>> means;
  for (const char* head : {"h.r", "h.g", "h.b"}) {
    const NamedTensor& m = find_tensor(ts, std::string(head) + ".bn.running_mean", "h.safetensors");
    CHECK(m.shape == std::vector<int>{32});
    CHECK(find_tensor(ts, std::string(head) + ".conv1.weight", "h.safetensors").shape == std::vector<int>{32, 32, 3, 3});
    means.push_back(m.data);
  }
  CHECK(means[0] != means[1]);
  CHECK(means[1] != means[2]);
}

TEST_CASE("lntl: baseline and LNTL epochs on synthetic Colored MNIST reduce their losses") {
  Backend be = cpu_backend();
  const ColoredMnist train = make_colored_mnist(square_digits(320, 1), true, 0.02f, 2);
  LntlNets nets(be, 6);
  LntlTrainer trainer(be, train, 16, 7);
  LntlEpochPlan plan;
  plan.opt.lr = 0.04f;
  auto all = [](const LntlEpochLosses&) { return true; };
  const LntlEpochLosses first = trainer.run_epoch(be, nets, plan, all).mean();
  LntlEpochLosses last;
  for (int e = 0; e < 4; ++e) last = trainer.run_epoch(be, nets, plan, all).mean();
  INFO("baseline ce " << first.ce << " -> " << last.ce);
  CHECK(first.steps == 20);
  CHECK(last.ce < 0.5 * first.ce);

  // LNTL from there: h starts untrained, so its colour loss must fall as it learns to read colour,
  // while the digit loss stays learned and the entropy term is reported (negative, times lambda).
  plan.adversarial = true;
  plan.opt.lr = 0.01f;
  const LntlEpochLosses adv_first = trainer.run_epoch(be, nets, plan, all).mean();
  const LntlEpochLosses adv_last = trainer.run_epoch(be, nets, plan, all).mean();
  INFO("colour ce " << adv_first.colour_ce << " -> " << adv_last.colour_ce << ", ce " << adv_last.ce);
  CHECK(adv_last.colour_ce < adv_first.colour_ce);
  CHECK(adv_last.ce < first.ce);
  CHECK(adv_last.neg_entropy < 0.0);
  // An early stop after 2 steps is reported as a partial epoch.
  const LntlEpochLosses partial = trainer.run_epoch(be, nets, plan, [](const LntlEpochLosses& s) { return s.steps < 2; });
  CHECK(partial.steps == 2);
}

TEST_CASE("lntl: an epoch stopped mid-way and continued from its checkpoint equals the epoch run straight") {
  // What --resume does after Ctrl-C: a fresh trainer skips the batches the first one drew, fresh nets load
  // the weights AND the momentum, and the epoch continues from the step it stopped at. Every parameter
  // and momentum must come out bit-identical to the uninterrupted run's.
  Backend be = cpu_backend();
  TempDir dir("lntl_resume");
  const ColoredMnist train = make_colored_mnist(square_digits(96, 3), true, 0.02f, 4);
  LntlEpochPlan plan;
  plan.adversarial = true;
  plan.opt.lr = 0.02f;
  auto all = [](const LntlEpochLosses&) { return true; };
  LntlNets straight(be, 11), stopped(be, 11), resumed(be, 12);
  LntlTrainer t_straight(be, train, 16, 5), t_stopped(be, train, 16, 5), t_resumed(be, train, 16, 5);
  for (int e = 0; e < 2; ++e) t_straight.run_epoch(be, straight, plan, all);
  t_stopped.run_epoch(be, stopped, plan, all);
  const LntlEpochLosses part = t_stopped.run_epoch(be, stopped, plan, [](const LntlEpochLosses& s) { return s.steps < 2; });
  REQUIRE(part.steps == 2);
  REQUIRE(t_stopped.batches_drawn() == t_stopped.steps_per_epoch() + 2);
  stopped.save(be, dir / "partial.safetensors", true);
  resumed.load(be, dir / "partial.safetensors", true);
  resumed.load_momentum(be, dir / "partial.safetensors", true);
  t_resumed.skip_batches(t_stopped.batches_drawn());
  const LntlEpochLosses rest = t_resumed.run_epoch(be, resumed, plan, all, 2);
  CHECK(rest.steps == t_resumed.steps_per_epoch() - 2);
  for (auto net : {&LntlNets::f, &LntlNets::g, &LntlNets::h}) {
    const ParamStore &a = (straight.*net)(), &b = (resumed.*net)();
    CHECK(std::equal(a.values(), a.values() + a.size(), b.values()));
  }
  // Momentum is part of it: the next step from the resumed nets must match the straight run's next step.
  straight.save(be, dir / "straight.safetensors", true);
  resumed.save(be, dir / "resumed.safetensors", true);
  std::vector<NamedTensor> want = load_safetensors(dir / "straight.safetensors"), got = load_safetensors(dir / "resumed.safetensors");
  REQUIRE(want.size() == got.size());
  int momenta = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].data == want[i].data);
    momenta += want[i].name.rfind("momentum.", 0) == 0;
  }
  CHECK(momenta == 30);  // every parameter of f, g and h
  // A checkpoint without momentum (written before) says so.
  save_safetensors(dir / "old.safetensors", {{"x", {1}, {1.0f}}}, {{"model", "lntl"}});
  CHECK_THROWS_WITH_AS(resumed.load_momentum(be, dir / "old.safetensors", true), contains("no SGD momentum"), std::runtime_error);
}

TEST_CASE("lntl: checkpoints round-trip, and the baseline's loads into LNTL without h") {
  Backend be = cpu_backend();
  TempDir dir("lntl_ckpt");
  const TinyBatch b = tiny_batch(4);
  LntlNets a(be, 8), c(be, 9);
  const LntlLosses none;
  a.colour_forward_backward(be, b.x.data(), b.bins.data(), b.valid, 4, -0.1f, none);  // moves BN statistics
  std::vector<float> want(40), got(40);
  a.logits(be, b.x.data(), 4, want.data());
  a.save(be, dir / "full.safetensors", true, {{"epochs", "3"}});
  a.save(be, dir / "base.safetensors", false);
  c.load(be, dir / "full.safetensors", true);
  c.logits(be, b.x.data(), 4, got.data());
  CHECK(got == want);
  CHECK(std::equal(c.h().values(), c.h().values() + c.h().size(), a.h().values()));
  LntlNets d(be, 10);
  d.load(be, dir / "base.safetensors", false);
  d.logits(be, b.x.data(), 4, got.data());
  CHECK(got == want);
  CHECK_THROWS_WITH_AS(d.load(be, dir / "base.safetensors", true), contains("h.r.conv1.weight"), std::runtime_error);
  save_safetensors(dir / "other.safetensors", {{"x", {1}, {1.0f}}}, {{"model", "judge"}});
  CHECK_THROWS_WITH_AS(d.load(be, dir / "other.safetensors", false), contains("not an lntl checkpoint"),
                       std::runtime_error);
}

TEST_CASE("lntl: a config file sets flags, the command line overrides it, bad lines are named") {
  TempDir dir("lntl_conf");
  int epochs = 100;
  float lr = 0.01f;
  std::string name = "x";
  auto make_cli = [&] {
    Cli cli("t", "test");
    cli.add("epochs", &epochs, "epochs", 1, 1000);
    cli.add("lr", &lr, "lr", 0.0, 1.0);
    cli.add("name", &name, "name");
    cli.add("config", &name, "unused here");
    return cli;
  };
  {
    std::ofstream f(dir / "ok.conf");
    f << "# comment\n\nepochs = 7   # trailing comment\n  lr=0.5\n";
  }
  Cli file_cli = make_cli();
  apply_config_file(file_cli, dir / "ok.conf");
  CHECK(epochs == 7);
  CHECK(lr == doctest::Approx(0.5f));
  const std::string conf = dir / "ok.conf";
  const char* args[] = {"t", "--config", conf.c_str(), "--lr", "0.25"};
  char** argv = const_cast<char**>(args);
  CHECK(find_flag_value(5, argv, "config") == conf);
  CHECK(find_flag_value(5, argv, "epochs").empty());
  Cli cli = make_cli();
  cli.parse(5, argv);
  CHECK(lr == doctest::Approx(0.25f));
  CHECK(epochs == 7);

  auto fails = [&](const std::string& text, const std::string& message) {
    { std::ofstream f(dir / "bad.conf"); f << text; }
    Cli c = make_cli();
    CHECK_THROWS_WITH_AS(apply_config_file(c, dir / "bad.conf"), contains(message), std::runtime_error);
  };
  fails("epochs 7\n", "bad.conf:1: expected 'key = value'");
  fails("epochs = 7\nepoch = 3\n", "unknown flag --epoch");
  fails("lr = fast\n", "--lr");
  CHECK_THROWS_WITH_AS(apply_config_file(file_cli, dir / "missing.conf"), contains("missing.conf"),
                       std::runtime_error);
}
