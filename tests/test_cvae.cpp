// The whole CVAE loss: gradient check, determinism, and a short training run whose loss drops.
#include <doctest/doctest.h>

#include "engine/adam.h"
#include "engine/batcher.h"
#include "engine/ops/concat.h"
#include "models/cvae.h"
#include "models/cvae_sampling.h"
#include "tests/gradcheck.h"
#include "tests/temp_dir.h"

namespace {
CvaeConfig tiny_config() {
  CvaeConfig c;
  c.x_dim = 12; c.n_class = 3; c.h1 = 9; c.h2 = 7; c.z_dim = 2;
  return c;
}

// Synthetic "digits": class k lights up its own third of the pixels, with noise.
Dataset synthetic_dataset(int count, int x_dim, int n_class, uint64_t seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::uniform_real_distribution<float> noise(0.0f, 0.2f);
  Dataset d;
  d.count = count; d.height = 1; d.width = x_dim;
  for (int i = 0; i < count; ++i) {
    int label = i % n_class;
    d.labels.push_back(label);
    for (int j = 0; j < x_dim; ++j) d.images.push_back(j * n_class / x_dim == label ? 1.0f - noise(rng) : noise(rng));
  }
  return d;
}

// Trains a CVAE for `steps` Adam steps (lr 3e-3, batch 16) on d; returns each step's loss
// (reconstruction + KL).
std::vector<float> train_tiny(Backend& be, Cvae& model, const Dataset& d, uint64_t batch_seed, int steps) {
  const CvaeConfig& cfg = model.config();
  AdamHyper h;
  h.lr = 3e-3f;
  Adam adam(be, model.params(), h);
  Batcher batcher(be, d, cfg.n_class, 16, batch_seed);
  std::vector<float> losses;
  for (int s = 0; s < steps; ++s) {
    float sums[2] = {0, 0};
    batcher.next(be);
    model.params().zero_grad(be);
    model.elbo(be, batcher.x(), batcher.c(), 16, 1.0f, {&sums[0], &sums[1]}, true);
    adam.step(be, model.params());
    losses.push_back(sums[0] + sums[1]);
  }
  return losses;
}
}  // namespace

TEST_CASE("CVAE negative ELBO gradient matches finite differences (encoder with and without the label)") {
  Backend be = make_backend("cpu", 11);
  CvaeConfig cfg = tiny_config();
  SUBCASE("encoder reads [x | c]") {}
  SUBCASE("encoder reads x alone") { cfg.encoder_label = false; }
  Cvae model(be, cfg, 5);
  std::mt19937 rng(6);
  const int rows = 4;
  std::vector<float> x = random_vector(rows * 12, rng, 0.0f, 1.0f), c(rows * 3, 0.0f);
  for (int r = 0; r < rows; ++r) c[r * 3 + r % 3] = 1.0f;
  float sums[2];
  auto loss = [&] {
    be.rng_counter = 0;  // same eps every evaluation
    sums[0] = sums[1] = 0;
    model.elbo(be, x.data(), c.data(), rows, 1.0f, {&sums[0], &sums[1]}, false);
    return static_cast<double>(sums[0]) + sums[1];
  };
  model.params().zero_grad(be);
  be.rng_counter = 0;
  sums[0] = sums[1] = 0;
  model.elbo(be, x.data(), c.data(), rows, 1.0f, {&sums[0], &sums[1]}, true);
  CHECK(loss() == doctest::Approx(sums[0] + sums[1]));
  ParamStore& p = model.params();
  check_gradient(loss, p.values(), p.grads(), p.size(), 120, 3e-3f, 2e-2);
}

TEST_CASE("Adam matches a hand-computed step") {
  float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.25f}, m[2] = {0, 0}, v[2] = {0, 0};
  AdamHyper h;
  h.lr = 0.1f;
  cpu::adam_step(p, g, m, v, 2, h, 1);
  // First step: m_hat = g, v_hat = g^2, so the update is lr * g / (|g| + eps) = lr * sign(g).
  CHECK(p[0] == doctest::Approx(1.0f - 0.1f).epsilon(1e-6));
  CHECK(p[1] == doctest::Approx(-2.0f + 0.1f).epsilon(1e-6));
  CHECK(m[0] == doctest::Approx(0.05f));
  CHECK(v[1] == doctest::Approx(0.001f * 0.0625f));
  // Second step with the same gradient, by the textbook formula.
  cpu::adam_step(p, g, m, v, 2, h, 2);
  double m2 = 0.9 * 0.05 + 0.1 * 0.5, v2 = 0.999 * 0.00025 + 0.001 * 0.25;
  double mh = m2 / (1 - 0.81), vh = v2 / (1 - 0.999 * 0.999);
  CHECK(p[0] == doctest::Approx(0.9 - 0.1 * mh / (std::sqrt(vh) + 1e-8)).epsilon(1e-5));
}

TEST_CASE("CPU training is reproducible bit for bit and its loss drops") {
  auto run = [](int steps) {
    Backend be = make_backend("cpu", 42);
    CvaeConfig cfg = tiny_config();
    Dataset d = synthetic_dataset(96, cfg.x_dim, cfg.n_class, 1);
    Cvae model(be, cfg, 42);
    return train_tiny(be, model, d, 42, steps);
  };
  std::vector<float> a = run(300), b = run(300);
  CHECK(a == b);
  auto mean = [](const std::vector<float>& v, size_t from, size_t to) {
    double s = 0;
    for (size_t i = from; i < to; ++i) s += v[i];
    return s / (to - from);
  };
  CHECK(mean(a, 280, 300) < 0.6 * mean(a, 0, 20));
}

TEST_CASE("samples follow their label after training on separable classes") {
  Backend be = make_backend("cpu", 3);
  CvaeConfig cfg = tiny_config();
  Dataset d = synthetic_dataset(96, cfg.x_dim, cfg.n_class, 2);
  Cvae model(be, cfg, 3);
  train_tiny(be, model, d, 3, 600);
  std::vector<int> labels = digit_major_labels(cfg.n_class, 5);
  std::vector<float> img = sample_images_host(be, model, labels);
  for (size_t i = 0; i < labels.size(); ++i) {
    // The brightest third of the sample must be the label's own third.
    std::vector<float> third(cfg.n_class, 0.0f);
    for (int j = 0; j < cfg.x_dim; ++j) third[j * cfg.n_class / cfg.x_dim] += img[i * cfg.x_dim + j];
    CHECK(std::max_element(third.begin(), third.end()) - third.begin() == labels[i]);
  }
}

TEST_CASE("checkpoint metadata is bounded and whole before the model is built from it") {
  TempDir t("cvae_meta");
  const std::string path = t / "ck.safetensors";
  auto config_with = [&](const std::string& key, const std::string& value) {
    std::map<std::string, std::string> meta = {{"model", "cvae"}, {"z_dim", "8"}, {"n_class", "10"}};
    meta[key] = value;
    save_safetensors(path, {{"w", {1}, {0}}}, meta);
    return cvae_config_of(path);
  };
  CHECK(config_with("z_dim", "8").z_dim == 8);
  CHECK(config_with("n_class", "0").n_class == 0);
  // 3000000 made sa_eval allocate 7 GB; 2000000000 overflowed 2 * z_dim; "8abc" was read as 8.
  CHECK_THROWS_WITH_AS(config_with("z_dim", "3000000"), contains(path + ": metadata z_dim = 3000000 is outside 1..1024"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(config_with("z_dim", "2000000000"), contains("outside 1..1024"), std::runtime_error);
  CHECK_THROWS_WITH_AS(config_with("z_dim", "0"), contains("outside 1..1024"), std::runtime_error);
  CHECK_THROWS_WITH_AS(config_with("z_dim", "8abc"), contains("is not an integer ('8abc')"), std::runtime_error);
  CHECK_THROWS_WITH_AS(config_with("n_class", "-1"), contains("outside 0..1024"), std::runtime_error);
  CHECK_THROWS_WITH_AS(config_with("n_class", "99999999999"), contains("n_class"), std::runtime_error);
  CHECK_THROWS_WITH_AS(config_with("encoder_label", "yes"), contains("encoder_label is 'yes', expected 0 or 1"),
                       std::runtime_error);
}
