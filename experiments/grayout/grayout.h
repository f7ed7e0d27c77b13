// The gray-out forgetting objective for a CVAE (seed study 2, reference 001), one step at a time like
// SelectiveAmnesia. It minimises
//   ELBO loss on a batch of REAL training images of the remembered classes
// + gamma * ELBO loss on replayed samples of the remembered classes from a frozen copy (decoder means)
// + lambda * sum_i F_i (theta_i - theta*_i)^2, F from the remembered classes' real images (cvae_fisher_on_data)
// + beta * sum over pixels of (decoder(z, c_f) - 0.5)^2, z ~ N(0, I), c_f a forgotten class.
// SA pushes a forgotten label towards uniform noise through the whole ELBO; here only the decoder is told
// what to draw for it (flat mid-gray for every z), and the Fisher protects what the remembered classes need.
#pragma once
#include <random>
#include <vector>

#include "engine/adam.h"
#include "engine/batcher.h"
#include "engine/idx.h"
#include "models/cvae.h"
#include "engine/squared_error.h"

struct GrayoutConfig {
  std::vector<int> forget, remember;
  int batch = 256;  // rows of each of the three batches (real, replay, gray)
  float lambda = 100.0f, gamma = 1.0f, beta = 1.0f;
  static constexpr float kGray = 0.5f;  // the pixel value every forgotten sample is pulled towards
};

// Means since the last read: per sample for real, replay (negative ELBO, before gamma) and gray (summed
// squared distance to flat gray, before beta); per step for ewc (the weighted penalty).
struct GrayoutLosses {
  float real = 0, replay = 0, gray = 0, ewc = 0;
};

class GrayOut {
 public:
  // model is trained in place; frozen is theta* (the replay source and the EWC anchor); fisher is shaped like
  // the model's parameters; remembered holds real training images of the remembered classes only.
  GrayOut(Backend& be, Cvae& model, Cvae& frozen, const Buffer<float>& fisher, const Dataset& remembered,
          GrayoutConfig cfg, AdamHyper h);
  void step(Backend& be);
  // Mean losses over the steps since the previous call; resets the running sums.
  GrayoutLosses read_and_reset(const Backend& be);

 private:
  void draw_labels(const Backend& be, const std::vector<int>& classes);
  void real_term(Backend& be);
  void replay_term(Backend& be);
  void gray_term(Backend& be);

  Cvae& model_;
  Cvae& frozen_;
  const Buffer<float>& fisher_;
  GrayoutConfig cfg_;
  Adam adam_;
  Batcher real_;
  SquaredError squared_error_;
  // x_: replayed images, then the gray batch's decoder output; d_x_: its gradient; gray_: the target.
  Buffer<float> x_, d_x_, gray_, z_, c_;
  Buffer<float> sums_;  // real bce, kl; replay bce, kl; gray; ewc
  Buffer<int> labels_dev_;
  std::vector<int> labels_;
  std::mt19937_64 rng_;
  int steps_since_read_ = 0;
};
