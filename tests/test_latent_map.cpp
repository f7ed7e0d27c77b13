// Latent analysis: the digit vote, the encoder without the label (checkpoint round trip), the map PNG.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>

#include "experiments/latent/latent_map.h"
#include "tests/temp_dir.h"

TEST_CASE("latent: the nearest-neighbour vote reads separated digits and fails on mixed ones") {
  std::mt19937 rng(2);
  std::normal_distribution<float> g(0.0f, 1.0f);
  const int n = 300, dim = 3;
  std::vector<int> labels(n);
  std::vector<float> apart(n * dim), mixed(n * dim);
  for (int i = 0; i < n; ++i) {
    labels[i] = i % 3;
    for (int c = 0; c < dim; ++c) {
      mixed[i * dim + c] = g(rng);
      apart[i * dim + c] = mixed[i * dim + c] + (c == labels[i] ? 20.0f : 0.0f);
    }
  }
  double overall = 0;
  std::vector<double> per_digit = knn_digit_accuracy(apart.data(), n, dim, labels, 5, overall);
  CHECK(overall == doctest::Approx(1.0));
  CHECK(per_digit[1] == doctest::Approx(1.0));
  CHECK(per_digit[7] == 0.0);  // no points of digit 7
  knn_digit_accuracy(mixed.data(), n, dim, labels, 5, overall);
  CHECK(overall < 0.5);  // chance is 1/3
}

TEST_CASE("latent: a CVAE whose encoder reads no label saves, reports and reloads as such") {
  Backend be = make_backend("cpu", 3);
  TempDir t("latent_cfg");
  CvaeConfig cfg;
  cfg.x_dim = 16; cfg.n_class = 10; cfg.h1 = 8; cfg.h2 = 6; cfg.z_dim = 2;
  cfg.encoder_label = false;
  Cvae model(be, cfg, 1);
  const std::string path = t / "m.safetensors";
  model.save(be, path, {{"forgotten", "3,5"}});
  const CvaeConfig back = cvae_config_of(path);
  CHECK_FALSE(back.encoder_label);
  CHECK(back.z_dim == 2);
  CHECK(recorded_forgotten_digits(path) == std::vector<int>{3, 5});

  CvaeConfig wrong = cfg;
  wrong.encoder_label = true;
  Cvae other(be, wrong, 1);
  CHECK_THROWS_WITH_AS(other.load(be, path), doctest::Contains("reads no label"), std::runtime_error);

  // Its encoder ignores c: two different labels give the same latent means.
  Dataset d;
  d.count = 2; d.height = 4; d.width = 4;
  d.images.assign(32, 0.5f);
  d.labels = {1, 8};
  const std::vector<float> mu = encode_means(be, model, d);
  CHECK(mu[0] == mu[2]);
  CHECK(mu[1] == mu[3]);
}

TEST_CASE("latent: the map PNG is written, forgotten digits named in its legend") {
  TempDir t("latent_png");
  std::vector<float> layout = {0, 0, 1, 1, 2, 0, 3, 1};
  write_latent_map(t / "map.png", "test", layout, {0, 1, 2, 3}, {2});
  CHECK(std::filesystem::file_size(t / "map.png") > 1000);
}
