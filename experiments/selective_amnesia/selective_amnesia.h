// The Selective Amnesia objective (Heng & Soh, 2023) for a CVAE, one step at a time:
//   ELBO loss on surrogate images (uniform noise) labelled with the forgotten classes
// + gamma * ELBO loss on replayed samples of the remembered classes drawn from a frozen copy
// + lambda * sum_i F_i (theta_i - theta*_i)^2.
#pragma once
#include <random>
#include <vector>

#include "engine/adam.h"
#include "models/cvae.h"

struct ForgetConfig {
  std::vector<int> forget, remember;
  int batch = 256;
  float lambda = 100.0f, gamma = 1.0f;
};

// Running sums since the last read, per sample (forget, replay) and per step (ewc).
struct ForgetLosses {
  float forget = 0, replay = 0, ewc = 0;
};

class SelectiveAmnesia {
 public:
  // model is trained in place; frozen is the original (theta*), fisher is shaped like its parameters.
  SelectiveAmnesia(Backend& be, Cvae& model, Cvae& frozen, const Buffer<float>& fisher, ForgetConfig cfg, AdamHyper h);
  void step(Backend& be);
  // Mean losses over the steps since the previous call; resets the running sums.
  ForgetLosses read_and_reset(const Backend& be);

 private:
  void draw_labels(const Backend& be, const std::vector<int>& classes);

  Cvae& model_;
  Cvae& frozen_;
  const Buffer<float>& fisher_;
  ForgetConfig cfg_;
  Adam adam_;
  Buffer<float> x_, c_, sums_;  // sums_: forget bce, kl; replay bce, kl; ewc
  Buffer<int> labels_dev_;
  std::vector<int> labels_;
  std::mt19937_64 rng_;
  int steps_since_read_ = 0;
};
