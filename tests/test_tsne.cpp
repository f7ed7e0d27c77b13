#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <stdexcept>
#include <vector>

#include "engine/tsne.h"

namespace {

// `clusters` Gaussian blobs of `per` points in d dimensions, centres `spread` apart on the axes.
std::vector<float> blobs(int clusters, int per, int d, float spread, std::vector<int>& labels) {
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  std::vector<float> x;
  for (int c = 0; c < clusters; ++c)
    for (int i = 0; i < per; ++i) {
      for (int k = 0; k < d; ++k) x.push_back(noise(rng) + (k == c ? spread : 0.0f));
      labels.push_back(c);
    }
  return x;
}

// Fraction of points whose nearest neighbour in the 2-D layout has their label.
double neighbour_agreement(const std::vector<float>& y, const std::vector<int>& labels) {
  const int n = static_cast<int>(labels.size());
  int agree = 0;
  for (int i = 0; i < n; ++i) {
    int best = -1;
    double best_d = INFINITY;
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1], dd = dx * dx + dy * dy;
      if (dd < best_d) { best_d = dd; best = j; }
    }
    agree += labels[best] == labels[i];
  }
  return double(agree) / n;
}

}  // namespace

TEST_CASE("tsne: every conditional row reaches the requested perplexity") {
  std::vector<int> labels;
  const std::vector<float> x = blobs(3, 20, 5, 4.0f, labels);
  const int n = 60;
  for (double perplexity : {5.0, 20.0}) {
    const std::vector<double> cond = tsne_conditionals(x.data(), n, 5, perplexity);
    for (int i = 0; i < n; ++i) {
      double sum = 0, entropy = 0;
      for (int j = 0; j < n; ++j) {
        const double v = cond[size_t(i) * n + j];
        sum += v;
        if (v > 0) entropy -= v * std::log(v);
      }
      CHECK(cond[size_t(i) * n + i] == 0.0);
      CHECK(sum == doctest::Approx(1.0).epsilon(1e-9));
      CHECK(std::exp(entropy) == doctest::Approx(perplexity).epsilon(1e-4));
    }
  }
  const std::vector<double> p = tsne_affinities(x.data(), n, 5, 10.0);
  double total = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      CHECK(p[size_t(i) * n + j] == doctest::Approx(p[size_t(j) * n + i]));
      total += p[size_t(i) * n + j];
    }
  CHECK(total == doctest::Approx(1.0).epsilon(1e-9));
}

TEST_CASE("tsne: objective gradient matches finite differences, with and without exaggeration") {
  std::vector<int> labels;
  const std::vector<float> x = blobs(2, 6, 4, 3.0f, labels);
  const int n = 12;
  const std::vector<double> p = tsne_affinities(x.data(), n, 4, 4.0);
  std::mt19937 rng(3);
  std::normal_distribution<double> g(0.0, 1.0);
  std::vector<double> y(2 * n), grad(2 * n);
  for (double& v : y) v = g(rng);
  // With p_scale 1 the objective is KL(P || Q) written out directly.
  double z = 0, kl = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      if (i != j) z += 1.0 / (1.0 + std::pow(y[2 * i] - y[2 * j], 2) + std::pow(y[2 * i + 1] - y[2 * j + 1], 2));
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double pij = p[size_t(i) * n + j];
      if (i == j || pij == 0) continue;
      const double q = 1.0 / (1.0 + std::pow(y[2 * i] - y[2 * j], 2) + std::pow(y[2 * i + 1] - y[2 * j + 1], 2)) / z;
      kl += pij * std::log(pij / q);
    }
  CHECK(tsne_objective(p, y.data(), n, 1.0) == doctest::Approx(kl).epsilon(1e-10));
  for (double scale : {1.0, 12.0}) {
    tsne_gradient(p, y.data(), n, scale, grad.data());
    for (int k = 0; k < 2 * n; ++k) {
      const double keep = y[k], h = 1e-6;
      y[k] = keep + h;
      const double up = tsne_objective(p, y.data(), n, scale);
      y[k] = keep - h;
      const double down = tsne_objective(p, y.data(), n, scale);
      y[k] = keep;
      INFO("coordinate " << k << " scale " << scale);
      CHECK(grad[k] == doctest::Approx((up - down) / (2 * h)).epsilon(1e-5));
    }
  }
}

TEST_CASE("tsne: well separated clusters stay separated in 2-D and the KL falls") {
  std::vector<int> labels;
  const int d = 10;
  const std::vector<float> x = blobs(4, 40, d, 8.0f, labels);
  const int n = static_cast<int>(labels.size());
  TsneConfig cfg;
  cfg.perplexity = 15;
  cfg.iterations = 400;
  const TsneResult r = tsne(x.data(), n, d, cfg);
  REQUIRE(r.layout.size() == size_t(2 * n));
  CHECK(neighbour_agreement(r.layout, labels) >= 0.97);

  const std::vector<double> p = tsne_affinities(x.data(), n, d, cfg.perplexity);
  std::vector<double> start(2 * n);
  std::mt19937 rng(1);
  std::normal_distribution<double> g(0.0, 1e-2);
  for (double& v : start) v = g(rng);
  CHECK(r.kl < 0.5 * tsne_objective(p, start.data(), n, 1.0));

  // Same seed, same layout: figures of a study can be regenerated exactly.
  CHECK(tsne(x.data(), n, d, cfg).layout == r.layout);
}

TEST_CASE("tsne: impossible settings are rejected with a message") {
  std::vector<int> labels;
  const std::vector<float> x = blobs(2, 5, 3, 3.0f, labels);
  CHECK_THROWS_AS(tsne_affinities(x.data(), 10, 3, 9.0), std::invalid_argument);
  CHECK_THROWS_AS(tsne_affinities(x.data(), 10, 3, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(tsne_affinities(x.data(), 2, 3, 1.0), std::invalid_argument);
}
