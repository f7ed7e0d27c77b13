// The data of the 11-way judge's "no digit" class, and the weak digits it must still read as digits.
//
// Featureless images are synthetic, never drawn by a generative model, so the judge cannot learn one
// model's failure look: flat fills at any level, uniform noise (over [0,1] or a sub-range), Gaussian
// noise at several levels, noise smoothed into blotches of several sizes around any mean, and mixtures
// of two of these. A forgotten row converges to gray (the BCE-optimal answer to uniform-noise targets),
// so a half-forgotten digit is a faint digit on gray: the real training digits are therefore also
// drawn weakened (lower contrast, on gray backgrounds, blurred, with light noise) under their own label,
// so that the judge keeps reading them as digits and "no digit" cannot swallow them.
#pragma once
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "engine/idx.h"

// The kinds of featureless image, each drawn with equal probability.
enum class Featureless { Flat, Uniform, Gaussian, Smoothed, Mixture, kCount };
const char* featureless_name(Featureless kind);

// One 28x28 featureless image of `kind` into img (784 floats in [0,1]).
void draw_featureless(std::mt19937_64& rng, Featureless kind, float* img);
// In place: a random weakening of a real digit (contrast x0.1-1, a gray background in 6 of 10 draws,
// a blur in 3 of 10, light Gaussian noise in 3 of 10), kept in [0,1].
void weaken_digit(std::mt19937_64& rng, float* img);
// In place, separable Gaussian blur of a 28x28 image (edges clamped).
void gaussian_blur(float* img, float sigma);

// The 11-way judge's training batches: real MNIST digits (each weakened with probability
// weaken_prob) under their labels, and featureless images (probability featureless_prob) under
// label 10. Built on the host, uploaded per batch.
class NoDigitBatcher {
 public:
  NoDigitBatcher(const Backend& be, const Dataset& digits, int batch, uint64_t seed, float featureless_prob = 1.0f / 6,
                 float weaken_prob = 0.5f);
  void next(const Backend& be);
  const float* x() const { return x_.data(); }
  const int* labels() const { return labels_.data(); }  // on the device

 private:
  const Dataset& digits_;
  int batch_;
  float featureless_prob_, weaken_prob_;
  std::mt19937_64 rng_;
  std::vector<float> host_x_;
  std::vector<int> host_labels_;
  Buffer<float> x_;
  Buffer<int> labels_;
};

class Judge;

// The judge on held-out data: MNIST test digits clean, at x0.5 and x0.3 contrast, blurred (sigma 1),
// at x0.5 contrast on a mid-gray background (0.5 + 0.5 x) and faintly on it (0.5 + 0.25 x): the
// fraction read as their digit; and, for an 11-way judge, the fraction of featureless images (drawn
// from `seed`, which training must not use) read as "no digit", per kind and in all.
struct HeldOutRow {
  std::string name;
  double rate = 0;  // fraction read as the expected class
  int images = 0;
};
std::vector<HeldOutRow> judge_held_out(Backend& be, Judge& judge, const Dataset& test, uint64_t seed,
                                       int featureless_per_kind = 2000);
// Writes held_out.csv and held_out.md into dir and returns the Markdown table.
std::string write_held_out(const std::vector<HeldOutRow>& rows, const std::string& dir);
