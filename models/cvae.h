// One-hot conditional VAE of the Selective Amnesia MNIST study:
// encoder [x | c] (784+10) -> 512 -> 256 -> (mu, logvar) of size 8;
// decoder [z | c] (8+10) -> 256 -> 512 -> 784 logits (sigmoid gives the pixel means).
// Loss: BCE summed over pixels + KL, summed over the batch.
// With n_class = 0 the same class is a plain (unconditional) VAE: both halves read x or z alone and
// every c argument may be null. One source serves both, so the CVAE and the VAE cannot drift apart.
#pragma once
#include <string>
#include <vector>

#include "engine/linear.h"

struct CvaeConfig {
  int x_dim = 784, n_class = 10, h1 = 512, h2 = 256, z_dim = 8;
  // false: the encoder reads x alone and only the decoder gets the label, so z has to carry the digit
  // (the latent-analysis study compares both kinds).
  bool encoder_label = true;
};

// The unconditional VAE of the catastrophic-forgetting study: the SA CVAE without its label input
// (784 -> 512 -> 256 -> z 8 -> 256 -> 512 -> 784). The reference study does not fix its sizes; keeping
// the SA ones means the same tested layers, about the same 1.07 M weights, and the same summed-loss
// scale, so an EWC lambda reads the same way in both studies.
inline CvaeConfig vae_config() {
  CvaeConfig c;
  c.n_class = 0;
  return c;
}

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
  // c is rows x n_class: one-hot or any soft label (ignored, may be null, when n_class is 0).
  void elbo(Backend& be, const float* x, const float* c, int rows, float scale, ElboSums sums, bool backward,
            float* fisher = nullptr, float fisher_scale = 1.0f);
  // Pixel means sigmoid(decoder(z, c)) into images (rows x x_dim).
  void decode(const Backend& be, const float* z, const float* c, int rows, float* images);
  // Backward of the latest decode(z, c, rows, images), for losses defined on images (the gray-out term,
  // attacks that optimise the decoder's inputs): d_images (rows x x_dim) is the loss's gradient w.r.t. those
  // pixel means. Accumulates parameter gradients into params() and, when d_zc is not null, writes the
  // gradient w.r.t. the decoder input [z | c] (rows x (z_dim + n_class); just z without labels). No other
  // pass of this model may run in between: the backward reads the activations decode() left behind.
  void decode_backward(const Backend& be, const float* z, const float* images, const float* d_images, int rows,
                       float* d_zc);
  // Encoder means mu(x, c) into mu (rows x z_dim).
  void encode_mean(const Backend& be, const float* x, const float* c, int rows, float* mu);
  // Deterministic reconstruction through z = mu(x, c): adds BCE(decoder(mu, c), x) summed over pixels
  // and rows to *bce_sum (a device scalar, may be null) and writes the pixel means into images
  // (rows x x_dim) when that is not null. No random draw, so it is a stable yardstick across a run.
  void reconstruct(const Backend& be, const float* x, const float* c, int rows, float* bce_sum, float* images);

  ParamStore& params() { return params_; }
  const ParamStore& params() const { return params_; }
  const CvaeConfig& config() const { return cfg_; }
  void save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta) const;
  void load(const Backend& be, const std::string& path);

 private:
  void reserve_batch(const Backend& be, int rows);
  // Each forward returns the pointer its first layer read ([v | c], or v itself without labels),
  // which that layer's backward needs again.
  const float* encoder_forward(const Backend& be, const float* x, const float* c, int rows);
  const float* decoder_forward(const Backend& be, const float* z, const float* c, int rows);
  // From dlogits_ back to the decoder input dec_in (what decoder_forward returned); d_in may be null.
  void decoder_backward(const Backend& be, const float* dec_in, int rows, float* d_in, float* fisher, float fisher_scale);
  const float* with_label(const Backend& be, const float* v, int v_dim, const float* c, int rows, Tensor& vc) const;
  void logits_to_images(const Backend& be, int rows, float* images) const;

  CvaeConfig cfg_;
  ParamStore params_;
  Linear enc1_, enc2_, enc_head_, dec1_, dec2_, dec3_;
  int capacity_ = 0;
  // Activations and their gradients for up to capacity_ rows.
  Tensor xc_, a1_, a2_, h_, eps_, z_, zc_, d1_, d2_, logits_;
  Tensor dlogits_, dd2_, dd1_, dzc_, dz_, dh_, da2_, da1_;
};

// The configuration a checkpoint was saved with (its metadata), to construct the Cvae that loads it.
// Sizes out of range (z_dim 1..1024, n_class 0..1024) or not whole integers are refused, naming the file.
CvaeConfig cvae_config_of(const std::string& path);
// cvae_config_of for programs that draw or forget digits: refuses an unconditional VAE (n_class 0).
CvaeConfig conditional_cvae_config_of(const std::string& path);
// The digits a forgetting driver recorded as forgotten in a checkpoint; empty when it recorded none.
std::vector<int> recorded_forgotten_digits(const std::string& path);
