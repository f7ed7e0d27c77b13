// Exact t-SNE (van der Maaten & Hinton, 2008) on the CPU: n points of dimension d -> 2-D.
// O(n^2) per iteration, which for the few thousand latents of an MNIST study is seconds, and needs no
// approximation whose error would then have to be explained next to the picture.
//   affinities  Gaussian conditionals P(j|i) whose bandwidths are searched so that every row has the
//               requested perplexity, symmetrised P = (P(j|i) + P(i|j)) / 2n;
//   embedding   Student-t similarities Q in 2-D, gradient descent on KL(P || Q) with early exaggeration,
//               momentum and per-coordinate adaptive gains, as in the paper's reference optimiser.
#pragma once
#include <cstdint>
#include <vector>

struct TsneConfig {
  double perplexity = 30.0;
  int iterations = 1000;
  int exaggeration_iterations = 250;  // P is multiplied by `exaggeration` for these first iterations
  double exaggeration = 12.0;
  double learning_rate = 0.0;  // 0: max(n / exaggeration / 4, 50), the usual "auto" rate
  uint64_t seed = 0;           // initial layout ~ N(0, 1e-4 I)
};

// Conditional affinities P(j|i) (n x n, row i sums to 1, zero diagonal) of n points x (n x d), each
// row's Gaussian bandwidth searched so that its entropy is log(perplexity) nats. Throws
// std::invalid_argument when perplexity is not in [1, n - 1) (no bandwidth can reach it).
std::vector<double> tsne_conditionals(const float* x, int n, int d, double perplexity);
// Symmetric joint affinities P (n x n, row-major, zero diagonal, summing to 1) of n points x (n x d).
std::vector<double> tsne_affinities(const float* x, int n, int d, double perplexity);

// The objective the optimiser descends for the 2-D layout y (n x 2):
//   sum p log p - p_scale * sum p log w + log sum w,  w = 1 / (1 + |y_i - y_j|^2) (Student-t kernel).
// With p_scale 1 this is KL(P || Q); during early exaggeration p_scale > 1 strengthens only the
// attraction, and its gradient is the usual exaggerated 4 sum_j (p_scale p_ij - q_ij) w_ij (y_i - y_j).
double tsne_objective(const std::vector<double>& p, const double* y, int n, double p_scale);
// That gradient into grad (n x 2).
void tsne_gradient(const std::vector<double>& p, const double* y, int n, double p_scale, double* grad);

struct TsneResult {
  std::vector<float> layout;  // n x 2
  double kl = 0;              // final KL(P || Q), unexaggerated
};

// The whole method: affinities, then cfg.iterations steps of the optimiser.
TsneResult tsne(const float* x, int n, int d, const TsneConfig& cfg);
