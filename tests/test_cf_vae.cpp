// The catastrophic-forgetting study on tiny synthetic tasks (forgetting without EWC, much less with
// it), the unconditional VAE and its data Fisher, the CSV log, and FashionMNIST through the IDX loader.
#include <doctest/doctest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "experiments/cf_vae/cf_study.h"
#include "models/cvae_fisher.h"
#include "tests/gradcheck.h"
#include "tests/temp_dir.h"

namespace {

CvaeConfig tiny_vae() {
  CvaeConfig c;
  c.x_dim = 16; c.n_class = 0; c.h1 = 24; c.h2 = 16; c.z_dim = 2;
  return c;
}

// A task lights up its own half of the 16 pixels (first or second) in one of four fixed random
// patterns; the other half stays dark. The two tasks share no bright pixel, so learning the second
// overwrites what the first needs unless something holds those weights in place.
Dataset half_task(int count, bool second_half, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::bernoulli_distribution on(0.5);
  std::uniform_real_distribution<float> noise(0.0f, 0.1f);
  const int x_dim = 16, half = x_dim / 2, patterns = 4;
  std::vector<float> pattern(patterns * half);
  for (float& p : pattern) p = on(rng) ? 1.0f : 0.0f;
  Dataset d;
  d.count = count; d.height = 1; d.width = x_dim;
  for (int i = 0; i < count; ++i) {
    d.labels.push_back(i % patterns);
    for (int j = 0; j < x_dim; ++j) {
      const bool own = (j >= half) == second_half;
      const float v = own ? pattern[(i % patterns) * half + j % half] : 0.0f;
      d.images.push_back(v > 0 ? v - noise(rng) : noise(rng));
    }
  }
  return d;
}

CfConfig tiny_study(float lambda) {
  CfConfig c;
  c.steps_per_phase = 800; c.batch = 16; c.lr = 3e-3f; c.ewc_lambda = lambda;
  c.eval_every = 100; c.eval_samples = 0; c.fisher_samples = 128; c.seed = 7;
  return c;
}

using Bytes = std::vector<uint8_t>;

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), unsigned(b.size())) == int(b.size()));
  REQUIRE(gzclose(f) == Z_OK);
}

}  // namespace

TEST_CASE("unconditional VAE: gradient check, null labels, and the data Fisher") {
  Backend be = make_backend("cpu", 3);
  Cvae model(be, tiny_vae(), 4);
  std::mt19937 rng(9);
  const int rows = 5, xd = 16;
  std::vector<float> x = random_vector(rows * xd, rng, 0.0f, 1.0f);
  float sums[2];
  auto loss = [&] {
    be.rng_counter = 0;
    sums[0] = sums[1] = 0;
    model.elbo(be, x.data(), nullptr, rows, 1.0f, {&sums[0], &sums[1]}, false);
    return static_cast<double>(sums[0]) + sums[1];
  };
  ParamStore& p = model.params();
  p.zero_grad(be);
  be.rng_counter = 0;
  model.elbo(be, x.data(), nullptr, rows, 1.0f, {}, true);
  check_gradient(loss, p.values(), p.grads(), p.size(), 120, 2e-3f, 2e-2);

  // The deterministic reconstruction loss equals the BCE of its own images.
  std::vector<float> img(rows * xd);
  float bce = 0;
  model.reconstruct(be, x.data(), nullptr, rows, &bce, img.data());
  double expect = 0;
  for (size_t i = 0; i < img.size(); ++i) expect -= x[i] * std::log(img[i]) + (1 - x[i]) * std::log(1 - img[i]);
  CHECK(bce == doctest::Approx(expect).epsilon(1e-4));

  // The data Fisher is the mean of per-sample squared gradients: check it against a batch-1 loop.
  Dataset d;
  d.count = rows; d.height = 1; d.width = xd; d.images = x; d.labels.assign(rows, 0);
  be.rng_counter = 0;
  std::vector<float> batched = cvae_fisher_on_data(be, model, d, rows, 3).download(be);
  std::vector<float> looped(p.size(), 0.0f);
  for (int r = 0; r < rows; ++r) {
    // Chunks of 3 then 2 rows draw z noise in that order, so row r's noise starts at r * z_dim.
    be.rng_counter = static_cast<uint64_t>(r) * 2;
    p.zero_grad(be);
    model.elbo(be, x.data() + r * xd, nullptr, 1, 1.0f, {}, true);
    for (size_t i = 0; i < p.size(); ++i) looped[i] += p.grads()[i] * p.grads()[i] / rows;
  }
  for (size_t i = 0; i < p.size(); ++i) {
    INFO("parameter " << i);
    CHECK(batched[i] == doctest::Approx(looped[i]).epsilon(1e-4).scale(1e-6));
  }
  CHECK_THROWS_WITH(cvae_fisher_on_data(be, model, d, rows + 1, 3), contains("samples asked of a dataset of"));
}

TEST_CASE("forgetting study: phase 2 erases phase 1 without EWC, much less with it") {
  Dataset a_train = half_task(256, false, 1), a_test = half_task(64, false, 1);
  Dataset b_train = half_task(256, true, 2), b_test = half_task(64, true, 2);
  CfData data{a_train, a_test, b_train, b_test};
  auto study = [&](float lambda) {
    Backend be = make_backend("cpu", 7);
    return run_cf_study(be, tiny_vae(), tiny_study(lambda), data, {});
  };
  // Near-noiseless synthetic data makes per-sample gradients, and so the Fisher, tiny: lambda must be large.
  CfResult r = study(1e4f);
  REQUIRE(r.complete);
  REQUIRE(r.has_ewc);
  const float a1 = r.phase1.mnist.recon, a_plain = r.plain.mnist.recon, a_ewc = r.ewc.mnist.recon;
  MESSAGE("task A recon: after phase 1 " << a1 << ", after phase 2 plain " << a_plain << ", with EWC " << a_ewc
                                         << "; task B recon plain " << r.plain.fashion.recon << ", EWC "
                                         << r.ewc.fashion.recon << " (before phase 2 " << r.phase1.fashion.recon << ")");
  CHECK(a_plain > a1 + 2.0f);                      // forgetting
  CHECK(a_ewc - a1 < 0.25f * (a_plain - a1));      // EWC keeps most of task A
  CHECK(r.plain.fashion.recon < 0.5f * r.phase1.fashion.recon);  // task B is learned in both runs
  CHECK(r.ewc.fashion.recon < 0.6f * r.phase1.fashion.recon);

  // Evaluations: step 0, every 100 steps of phase 1 (shared), then every 100 of each phase-2 run.
  REQUIRE(r.points.size() == 1 + 8 + 8 + 8);
  CHECK(r.points[0].step == 0);
  CHECK(r.points[8].run == "shared");
  CHECK(r.points[9].run == "plain");
  CHECK(r.points[9].step == 900);
  CHECK(r.points[9].phase == 2);
  CHECK(r.points.back().run == "ewc");
  CHECK(r.points.back().step == 1600);

  // lambda 0: no EWC run, and the plain run is the same bit for bit (same seed, same noise).
  CfResult plain_only = study(0.0f);
  CHECK_FALSE(plain_only.has_ewc);
  CHECK(plain_only.points.size() == 1 + 8 + 8);
  CHECK(plain_only.plain.mnist.recon == a_plain);
}

TEST_CASE("forgetting study: generative replay of the phase-1 model keeps task A") {
  Dataset a_train = half_task(256, false, 1), a_test = half_task(64, false, 1);
  Dataset b_train = half_task(256, true, 2), b_test = half_task(64, true, 2);
  CfConfig cfg = tiny_study(0.0f);
  cfg.replay_gamma = 1.0f;
  Backend be = make_backend("cpu", 7);
  CfResult r = run_cf_study(be, tiny_vae(), cfg, {a_train, a_test, b_train, b_test}, {});
  REQUIRE(r.complete);
  REQUIRE(r.has_replay);
  CHECK_FALSE(r.has_ewc);
  const float a1 = r.phase1.mnist.recon, a_plain = r.plain.mnist.recon, a_replay = r.replay.mnist.recon;
  MESSAGE("task A recon: after phase 1 " << a1 << ", plain " << a_plain << ", replay " << a_replay << "; task B replay "
                                         << r.replay.fashion.recon << " (before phase 2 " << r.phase1.fashion.recon << ")");
  CHECK(a_plain > a1 + 2.0f);
  CHECK(a_replay - a1 < 0.25f * (a_plain - a1));
  CHECK(r.replay.fashion.recon < 0.6f * r.phase1.fashion.recon);
  CHECK(r.points.size() == 1 + 8 + 8 + 8);
  CHECK(r.points.back().run == "replay");
  CHECK(cf_total_steps(cfg) == 3 * cfg.steps_per_phase);
}

TEST_CASE("forgetting study: hooks, CSV log, plot and reconstruction grid") {
  TempDir t("cf_vae");
  Dataset a = half_task(64, false, 3), b = half_task(64, true, 4);
  CfConfig cfg = tiny_study(10.0f);
  cfg.steps_per_phase = 20;
  cfg.eval_every = 10;
  cfg.fisher_samples = 32;
  CsvLog csv(t / "metrics.csv", kCfCsvHeader);
  std::vector<std::string> stages;
  int64_t last_done = 0;
  CfHooks hooks;
  hooks.on_eval = [&](const CfPoint& p) { log_cf_point(csv, p); };
  hooks.on_model = [&](const std::string& stage, Cvae&, const CfPoint&) { stages.push_back(stage); };
  hooks.on_step = [&](int64_t done, int64_t total, const std::string&) {
    CHECK(done == last_done + 1);
    CHECK(total == cf_total_steps(cfg));
    last_done = done;
  };
  Backend be = make_backend("cpu", 1);
  CfResult r = run_cf_study(be, tiny_vae(), cfg, {a, a, b, b}, hooks);
  CHECK(stages == std::vector<std::string>{"phase1", "plain", "ewc"});
  CHECK(last_done == 60);

  std::ifstream in(t / "metrics.csv");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() == 1 + r.points.size());
  CHECK(lines[0] == "step,phase,run,mnist_recon,mnist_elbo,fashion_recon,fashion_elbo");
  CHECK(lines[1].rfind("0,1,shared,", 0) == 0);
  CHECK(lines[3].rfind("20,1,shared,", 0) == 0);
  CHECK(lines[4].rfind("30,2,plain,", 0) == 0);
  CHECK(lines.back().rfind("40,2,ewc,", 0) == 0);
  for (size_t i = 1; i < lines.size(); ++i) CHECK(std::count(lines[i].begin(), lines[i].end(), ',') == 6);

  // A stop request ends the study early and says so.
  hooks = {};
  int steps = 0;
  hooks.on_step = [&](int64_t, int64_t, const std::string&) { ++steps; };
  hooks.stop = [&] { return steps == 5; };
  CfResult cut = run_cf_study(be, tiny_vae(), cfg, {a, a, b, b}, hooks);
  CHECK_FALSE(cut.complete);
  CHECK(steps == 5);

  write_cf_plot(t / "curves.png", r, cfg.steps_per_phase);
  CHECK(std::filesystem::file_size(t / "curves.png") > 1000);
  Cvae model(be, tiny_vae(), 1);
  write_recon_grid(be, model, a, 8, t / "recon.png");
  CHECK(std::filesystem::file_size(t / "recon.png") > 50);
  std::string md = cf_summary_markdown(r, cfg);
  CHECK(md.find("after phase 2, EWC (lambda 10)") != std::string::npos);
}

TEST_CASE("FashionMNIST loads through the IDX loader: synthetic gzip files and the real data") {
  // A tiny gzipped split named like FashionMNIST's files: two 28x28 images, labels 9 and 3.
  TempDir t("cf_fashion");
  Bytes img, lab;
  for (uint32_t v : {0x00000803u, 2u, 28u, 28u}) put_be32(img, v);
  for (uint8_t v : {0, 255, 51, 102}) img.push_back(v);
  img.resize(img.size() + 2 * 784 - 4, 0);
  for (uint32_t v : {0x00000801u, 2u}) put_be32(lab, v);
  lab.push_back(9);
  lab.push_back(3);
  write_gz(t / "t10k-images-idx3-ubyte.gz", img);
  write_gz(t / "t10k-labels-idx1-ubyte.gz", lab);
  Dataset d = load_mnist_split(t.path.string(), false);
  CHECK(d.count == 2);
  CHECK(d.dim() == 784);
  CHECK(d.images[1] == 1.0f);
  CHECK(d.images[2] == doctest::Approx(0.2f));
  CHECK(d.labels == std::vector<int>{9, 3});

  const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "data" / "fashion";
  if (!std::filesystem::exists(dir / "t10k-images-idx3-ubyte.gz")) {
    MESSAGE("skipped the real FashionMNIST check: no " << dir.string() << " (run bash data/fetch.sh)");
    return;
  }
  Dataset f = load_mnist_split(dir.string(), false);
  CHECK(f.count == 10000);
  CHECK(f.height == 28);
  CHECK(f.width == 28);
  std::vector<int> per_class(10, 0);
  for (int l : f.labels) ++per_class[l];
  CHECK(per_class == std::vector<int>(10, 1000));  // FashionMNIST's test split is balanced
}
