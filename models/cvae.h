// One-hot conditional VAE of the Selective Amnesia MNIST study:
// encoder [x | c] (784+10) -> 512 -> 256 -> (mu, logvar) of size 8;
// decoder [z | c] (8+10) -> 256 -> 512 -> 784 logits (sigmoid gives the pixel means).
// Loss: BCE summed over pixels + KL, summed over the batch.
#pragma once
#include <string>

#include "engine/linear.h"

struct CvaeConfig {
  int x_dim = 784, n_class = 10, h1 = 512, h2 = 256, z_dim = 8;
};

// Per-batch sums written by the ELBO pass, each a device scalar that the pass adds to.
struct ElboSums {
  float* bce = nullptr;
  float* kl = nullptr;
};

class Cvae {
 public:
  Cvae(const Backend& be, CvaeConfig cfg, uint64_t init_seed);

  // Negative ELBO of (x, c) for `rows` samples, scaled by `scale`, added to sums. When backward is
  // set, accumulates gradients into params() (or per-sample squared gradients into `fisher`).
  // c is rows x n_class: one-hot or any soft label.
  void elbo(Backend& be, const float* x, const float* c, int rows, float scale, ElboSums sums, bool backward,
            float* fisher = nullptr, float fisher_scale = 1.0f);
  // Pixel means sigmoid(decoder(z, c)) into images (rows x x_dim).
  void decode(const Backend& be, const float* z, const float* c, int rows, float* images);
  // Encoder means mu(x, c) into mu (rows x z_dim).
  void encode_mean(const Backend& be, const float* x, const float* c, int rows, float* mu);

  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  const CvaeConfig& config() const { return cfg_; }
  void save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta) const;
  void load(const Backend& be, const std::string& path);

 private:
  void reserve_batch(const Backend& be, int rows);
  void encoder_forward(const Backend& be, const float* x, const float* c, int rows);
  void decoder_forward(const Backend& be, const float* z, const float* c, int rows);

  CvaeConfig cfg_;
  ParamStore params_;
  Linear enc1_, enc2_, enc_head_, dec1_, dec2_, dec3_;
  int capacity_ = 0;
  // Activations and their gradients for up to capacity_ rows.
  Tensor xc_, a1_, a2_, h_, eps_, z_, zc_, d1_, d2_, logits_;
  Tensor dlogits_, dd2_, dd1_, dzc_, dz_, dh_, da2_, da1_;
};
