// Finite-difference gradient checking for the CPU reference ops.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <random>
#include <vector>

inline std::vector<float> random_vector(size_t n, std::mt19937& rng, float lo = -1.0f, float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

// sum_i y_i w_i: a scalar loss whose gradient w.r.t. y is w, to check any op's backward with random w.
inline double weighted_sum(const std::vector<float>& y, const std::vector<float>& w) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += static_cast<double>(y[i]) * w[i];
  return s;
}

// Compares analytic[i] with the central difference of loss() w.r.t. x[i] for up to `samples` indices.
// loss() must recompute everything from x. Tolerance is absolute + relative, sized for float32 sums.
inline void check_gradient(const std::function<double()>& loss, float* x, const float* analytic, size_t n,
                           int samples = 40, float h = 1e-2f, double tol = 2e-2) {
  std::mt19937 rng(123);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  for (int s = 0; s < samples && s < static_cast<int>(n); ++s) {
    size_t i = samples >= static_cast<int>(n) ? static_cast<size_t>(s) : pick(rng);
    float keep = x[i];
    x[i] = keep + h;
    double up = loss();
    x[i] = keep - h;
    double down = loss();
    x[i] = keep;
    double numeric = (up - down) / (2.0 * h);
    INFO("index " << i << " analytic " << analytic[i] << " numeric " << numeric);
    CHECK(std::fabs(numeric - analytic[i]) <= tol * (1.0 + std::fabs(numeric)));
  }
}
