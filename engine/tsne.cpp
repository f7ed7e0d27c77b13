#include "engine/tsne.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

namespace {

std::vector<double> squared_distances(const float* x, int n, int d) {
  std::vector<double> dist(static_cast<size_t>(n) * n, 0.0);
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      double s = 0;
      for (int k = 0; k < d; ++k) {
        const double diff = double(x[size_t(i) * d + k]) - x[size_t(j) * d + k];
        s += diff * diff;
      }
      dist[size_t(i) * n + j] = dist[size_t(j) * n + i] = s;
    }
  return dist;
}

// Row i of P(j|i) for precision beta (= 1 / 2 sigma^2); returns the row's entropy in nats.
// Distances are shifted by the row's smallest one so exp() cannot underflow to an all-zero row.
double conditional_row(const double* dist, int n, int i, double beta, double* row) {
  double min_d = std::numeric_limits<double>::infinity();
  for (int j = 0; j < n; ++j)
    if (j != i) min_d = std::min(min_d, dist[j]);
  double sum = 0, weighted = 0;
  for (int j = 0; j < n; ++j) {
    row[j] = j == i ? 0.0 : std::exp(-beta * (dist[j] - min_d));
    sum += row[j];
    weighted += row[j] * (dist[j] - min_d);
  }
  for (int j = 0; j < n; ++j) row[j] /= sum;
  return std::log(sum) + beta * weighted / sum;
}

// Bisection on log(beta): entropy falls monotonically as beta grows.
void calibrate_row(const double* dist, int n, int i, double target_entropy, double* row) {
  double lo = -50.0, hi = 50.0, log_beta = 0.0;
  for (int it = 0; it < 200; ++it) {
    const double h = conditional_row(dist, n, i, std::exp(log_beta), row);
    if (std::fabs(h - target_entropy) < 1e-6) return;
    (h > target_entropy ? lo : hi) = log_beta;
    log_beta = 0.5 * (lo + hi);
  }
}

double auto_learning_rate(int n, const TsneConfig& cfg) {
  if (cfg.learning_rate > 0) return cfg.learning_rate;
  return std::max(double(n) / cfg.exaggeration / 4.0, 50.0);
}

void centre(std::vector<double>& y, int n) {
  for (int k = 0; k < 2; ++k) {
    double mean = 0;
    for (int i = 0; i < n; ++i) mean += y[size_t(i) * 2 + k];
    mean /= n;
    for (int i = 0; i < n; ++i) y[size_t(i) * 2 + k] -= mean;
  }
}

}  // namespace

std::vector<double> tsne_conditionals(const float* x, int n, int d, double perplexity) {
  if (n < 3 || d < 1) throw std::invalid_argument("t-SNE needs at least 3 points of dimension >= 1");
  if (!(perplexity >= 1.0) || perplexity >= n - 1)
    throw std::invalid_argument("t-SNE perplexity " + std::to_string(perplexity) + " must be in [1, n - 1) with n = " +
                                std::to_string(n) + " points");
  const std::vector<double> dist = squared_distances(x, n, d);
  std::vector<double> cond(size_t(n) * n);
  const double target = std::log(perplexity);
  for (int i = 0; i < n; ++i) calibrate_row(dist.data() + size_t(i) * n, n, i, target, cond.data() + size_t(i) * n);
  return cond;
}

std::vector<double> tsne_affinities(const float* x, int n, int d, double perplexity) {
  const std::vector<double> cond = tsne_conditionals(x, n, d, perplexity);
  std::vector<double> p(size_t(n) * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) p[size_t(i) * n + j] = (cond[size_t(i) * n + j] + cond[size_t(j) * n + i]) / (2.0 * n);
  return p;
}

namespace {

// Student-t kernel w = 1 / (1 + |y_i - y_j|^2) of two layout points.
inline double kernel(const double* y, int i, int j, double& dx, double& dy) {
  dx = y[2 * i] - y[2 * j];
  dy = y[2 * i + 1] - y[2 * j + 1];
  return 1.0 / (1.0 + dx * dx + dy * dy);
}

}  // namespace

double tsne_objective(const std::vector<double>& p, const double* y, int n, double p_scale) {
  double total = 0, objective = 0, dx, dy;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      const double w = kernel(y, i, j, dx, dy), pij = p[size_t(i) * n + j];
      total += 2 * w;
      if (pij > 0) objective += 2 * pij * (std::log(pij) - p_scale * std::log(w));
    }
  return objective + std::log(total);
}

void tsne_gradient(const std::vector<double>& p, const double* y, int n, double p_scale, double* grad) {
  // 4 sum_j (s p_ij - w_ij / Z) w_ij (y_i - y_j) split into an attraction sum and a repulsion sum that
  // is divided by Z = sum w at the end, so one pass over the pairs does it all.
  std::vector<double> repulsion(2 * size_t(n), 0.0);
  std::fill(grad, grad + 2 * size_t(n), 0.0);
  double total = 0, dx, dy;
  for (int i = 0; i < n; ++i)
    for (int j = i + 1; j < n; ++j) {
      const double w = kernel(y, i, j, dx, dy), a = p_scale * p[size_t(i) * n + j] * w, r = w * w;
      total += 2 * w;
      grad[2 * i] += a * dx;
      grad[2 * i + 1] += a * dy;
      grad[2 * j] -= a * dx;
      grad[2 * j + 1] -= a * dy;
      repulsion[2 * i] += r * dx;
      repulsion[2 * i + 1] += r * dy;
      repulsion[2 * j] -= r * dx;
      repulsion[2 * j + 1] -= r * dy;
    }
  for (size_t k = 0; k < 2 * size_t(n); ++k) grad[k] = 4.0 * (grad[k] - repulsion[k] / total);
}

TsneResult tsne(const float* x, int n, int d, const TsneConfig& cfg) {
  if (cfg.iterations < 1) throw std::invalid_argument("t-SNE needs at least one iteration");
  const std::vector<double> p = tsne_affinities(x, n, d, cfg.perplexity);
  std::mt19937_64 rng(cfg.seed);
  std::normal_distribution<double> init(0.0, 1e-2);
  std::vector<double> y(size_t(n) * 2), step(y.size(), 0.0), gains(y.size(), 1.0), grad(y.size());
  for (double& v : y) v = init(rng);
  const double lr = auto_learning_rate(n, cfg);
  for (int it = 0; it < cfg.iterations; ++it) {
    const bool early = it < cfg.exaggeration_iterations;
    tsne_gradient(p, y.data(), n, early ? cfg.exaggeration : 1.0, grad.data());
    const double momentum = early ? 0.5 : 0.8;
    for (size_t k = 0; k < y.size(); ++k) {
      // Gains grow where the gradient keeps flipping the step's direction and shrink where it agrees.
      gains[k] = (grad[k] > 0) != (step[k] > 0) ? gains[k] + 0.2 : std::max(gains[k] * 0.8, 0.01);
      step[k] = momentum * step[k] - lr * gains[k] * grad[k];
      y[k] += step[k];
    }
    centre(y, n);
  }
  TsneResult r;
  r.kl = tsne_objective(p, y.data(), n, 1.0);
  r.layout.assign(y.begin(), y.end());
  return r;
}
