#include "models/cvae.h"

#include <stdexcept>

#include "engine/checkpoint_kind.h"
#include "engine/text.h"
#include "engine/ops/bce_logits.h"
#include "engine/ops/concat.h"
#include "engine/ops/reparam_kl.h"
#include "engine/ops/rng.h"

Cvae::Cvae(const Backend& be, CvaeConfig cfg, uint64_t init_seed) : cfg_(cfg) {
  enc1_ = Linear(params_, "enc1", cfg.x_dim + (cfg.encoder_label ? cfg.n_class : 0), cfg.h1, Act::ReLU);
  enc2_ = Linear(params_, "enc2", cfg.h1, cfg.h2, Act::ReLU);
  enc_head_ = Linear(params_, "enc_head", cfg.h2, 2 * cfg.z_dim, Act::None);
  dec1_ = Linear(params_, "dec1", cfg.z_dim + cfg.n_class, cfg.h2, Act::ReLU);
  dec2_ = Linear(params_, "dec2", cfg.h2, cfg.h1, Act::ReLU);
  dec3_ = Linear(params_, "dec3", cfg.h1, cfg.x_dim, Act::None);
  params_.allocate(be, init_seed);
}

void Cvae::reserve_batch(const Backend& be, int rows) {
  if (rows <= capacity_) return;
  const CvaeConfig& c = cfg_;
  auto t = [&](int cols) { return Tensor(be, {rows, cols}); };
  auto labelled = [&](int cols) { return t(c.n_class ? cols + c.n_class : 0); };  // [v | c]; unused without labels
  xc_ = labelled(c.x_dim); a1_ = t(c.h1); a2_ = t(c.h2); h_ = t(2 * c.z_dim); eps_ = t(c.z_dim); z_ = t(c.z_dim);
  zc_ = labelled(c.z_dim); d1_ = t(c.h2); d2_ = t(c.h1); logits_ = t(c.x_dim);
  dlogits_ = t(c.x_dim); dd2_ = t(c.h1); dd1_ = t(c.h2); dzc_ = labelled(c.z_dim); dz_ = t(c.z_dim);
  dh_ = t(2 * c.z_dim); da2_ = t(c.h2); da1_ = t(c.h1);
  capacity_ = rows;
}

// [v | c] into vc for a conditional model; an unconditional one (n_class 0) feeds v on as it is.
const float* Cvae::with_label(const Backend& be, const float* v, int v_dim, const float* c, int rows, Tensor& vc) const {
  if (cfg_.n_class == 0) return v;
  concat_cols(be, v, v_dim, c, cfg_.n_class, rows, vc.data());
  return vc.data();
}

const float* Cvae::encoder_forward(const Backend& be, const float* x, const float* c, int rows) {
  const float* in = cfg_.encoder_label ? with_label(be, x, cfg_.x_dim, c, rows, xc_) : x;
  enc1_.forward(be, params_, in, rows, a1_.data());
  enc2_.forward(be, params_, a1_.data(), rows, a2_.data());
  enc_head_.forward(be, params_, a2_.data(), rows, h_.data());
  return in;
}

const float* Cvae::decoder_forward(const Backend& be, const float* z, const float* c, int rows) {
  const float* in = with_label(be, z, cfg_.z_dim, c, rows, zc_);
  dec1_.forward(be, params_, in, rows, d1_.data());
  dec2_.forward(be, params_, d1_.data(), rows, d2_.data());
  dec3_.forward(be, params_, d2_.data(), rows, logits_.data());
  return in;
}

void Cvae::decoder_backward(const Backend& be, const float* dec_in, int rows, float* d_in, float* fisher,
                            float fisher_scale) {
  dec3_.backward(be, params_, d2_.data(), logits_.data(), dlogits_.data(), rows, dd2_.data(), fisher, fisher_scale);
  dec2_.backward(be, params_, d1_.data(), d2_.data(), dd2_.data(), rows, dd1_.data(), fisher, fisher_scale);
  dec1_.backward(be, params_, dec_in, d1_.data(), dd1_.data(), rows, d_in, fisher, fisher_scale);
}

void Cvae::elbo(Backend& be, const float* x, const float* c, int rows, float scale, ElboSums sums, bool backward,
                float* fisher, float fisher_scale) {
  reserve_batch(be, rows);
  const CvaeConfig& k = cfg_;
  const float* enc_in = encoder_forward(be, x, c, rows);
  fill_normal(be, eps_.data(), static_cast<int64_t>(rows) * k.z_dim);
  reparam_kl_fwd(be, h_.data(), eps_.data(), rows, k.z_dim, scale, z_.data(), sums.kl);
  const float* dec_in = decoder_forward(be, z_.data(), c, rows);
  bce_logits(be, logits_.data(), x, static_cast<int64_t>(rows) * k.x_dim, scale, backward ? dlogits_.data() : nullptr,
             sums.bce);
  if (!backward) return;

  // Without labels dec1's input is z itself, so its input gradient is dz with nothing to slice off.
  decoder_backward(be, dec_in, rows, k.n_class ? dzc_.data() : dz_.data(), fisher, fisher_scale);
  if (k.n_class) slice_cols(be, dzc_.data(), k.z_dim + k.n_class, 0, k.z_dim, rows, dz_.data());
  reparam_kl_bwd(be, h_.data(), eps_.data(), dz_.data(), rows, k.z_dim, scale, dh_.data());
  enc_head_.backward(be, params_, a2_.data(), h_.data(), dh_.data(), rows, da2_.data(), fisher, fisher_scale);
  enc2_.backward(be, params_, a1_.data(), a2_.data(), da2_.data(), rows, da1_.data(), fisher, fisher_scale);
  enc1_.backward(be, params_, enc_in, a1_.data(), da1_.data(), rows, nullptr, fisher, fisher_scale);
}

// The decoder ends in logits (the loss wants them); images are their sigmoid.
void Cvae::logits_to_images(const Backend& be, int rows, float* images) const {
  copy_on(be, images, logits_.data(), sizeof(float) * rows * cfg_.x_dim);
  bias_act_fwd(be, images, nullptr, rows, cfg_.x_dim, Act::Sigmoid);
}

void Cvae::decode(const Backend& be, const float* z, const float* c, int rows, float* images) {
  reserve_batch(be, rows);
  decoder_forward(be, z, c, rows);
  logits_to_images(be, rows, images);
}

void Cvae::decode_backward(const Backend& be, const float* z, const float* images, const float* d_images, int rows,
                           float* d_zc) {
  if (rows > capacity_) throw std::logic_error("Cvae::decode_backward: more rows than the last decode() had");
  // The decoder's last layer is linear; decode() applied the sigmoid, so its derivative p (1 - p) is read
  // off the images themselves.
  copy_on(be, dlogits_.data(), d_images, sizeof(float) * rows * cfg_.x_dim);
  bias_act_bwd(be, dlogits_.data(), images, nullptr, rows, cfg_.x_dim, Act::Sigmoid);
  // decode() left [z | c] in zc_ for a conditional model; without labels dec1 read z itself.
  decoder_backward(be, cfg_.n_class ? zc_.data() : z, rows, d_zc, nullptr, 1.0f);
}

void Cvae::encode_mean(const Backend& be, const float* x, const float* c, int rows, float* mu) {
  reserve_batch(be, rows);
  encoder_forward(be, x, c, rows);
  slice_cols(be, h_.data(), 2 * cfg_.z_dim, 0, cfg_.z_dim, rows, mu);
}

void Cvae::reconstruct(const Backend& be, const float* x, const float* c, int rows, float* bce_sum, float* images) {
  reserve_batch(be, rows);                 // before z_.data() is read: it may reallocate z_
  encode_mean(be, x, c, rows, z_.data());  // z_ is free outside elbo(), so it holds mu here
  decoder_forward(be, z_.data(), c, rows);
  if (bce_sum) bce_logits(be, logits_.data(), x, static_cast<int64_t>(rows) * cfg_.x_dim, 1.0f, nullptr, bce_sum);
  if (images) logits_to_images(be, rows, images);
}

void Cvae::save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta) const {
  std::map<std::string, std::string> m = meta;
  m["model"] = "cvae";
  m["z_dim"] = std::to_string(cfg_.z_dim);
  m["n_class"] = std::to_string(cfg_.n_class);  // 0: the unconditional VAE
  m["encoder_label"] = cfg_.encoder_label ? "1" : "0";
  save_safetensors(path, params_.to_named(be), m);
}

void Cvae::load(const Backend& be, const std::string& path) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> ts = load_safetensors(path, &meta);
  check_checkpoint_kind(meta, "cvae", "a CVAE", path);
  if (meta.count("encoder_label") && (meta["encoder_label"] == "1") != cfg_.encoder_label)
    throw std::runtime_error(path + ": its encoder " + (cfg_.encoder_label ? "reads no label" : "reads the label") +
                             ", unlike this model (build it with cvae_config_of)");
  params_.load_named(be, ts, path);
}

namespace {

// Far above any network of these studies (z 2..32, 10 classes), far below what would exhaust memory.
constexpr int kMaxMetadataSize = 1024;

// A size read from metadata, bounded before anything is allocated from it: an edited checkpoint must not
// make the loader reserve gigabytes (or overflow 2 * z_dim) before the tensor shapes are compared.
int metadata_size(const CheckpointMeta& meta, const std::string& key, int least, const std::string& path) {
  const int v = checkpoint_int(meta, key, path);
  if (v < least || v > kMaxMetadataSize)
    throw std::runtime_error(path + ": metadata " + key + " = " + std::to_string(v) + " is outside " +
                             std::to_string(least) + ".." + std::to_string(kMaxMetadataSize));
  return v;
}

}  // namespace

CvaeConfig cvae_config_of(const std::string& path) {
  std::map<std::string, std::string> meta;
  load_safetensors(path, &meta);
  check_checkpoint_kind(meta, "cvae", "a CVAE", path);
  CvaeConfig cfg;
  cfg.z_dim = metadata_size(meta, "z_dim", 1, path);
  cfg.n_class = metadata_size(meta, "n_class", 0, path);  // 0: the unconditional VAE
  const auto label = meta.find("encoder_label");
  if (label != meta.end() && label->second != "0" && label->second != "1")
    throw std::runtime_error(path + ": metadata encoder_label is '" + label->second + "', expected 0 or 1");
  cfg.encoder_label = label == meta.end() || label->second == "1";
  return cfg;
}

CvaeConfig conditional_cvae_config_of(const std::string& path) {
  const CvaeConfig cfg = cvae_config_of(path);
  if (cfg.n_class == 0)
    throw std::runtime_error(path + ": is an unconditional VAE (no digit label, e.g. from cf_vae); this needs a "
                             "class-conditional CVAE (sa_train)");
  return cfg;
}

std::vector<int> recorded_forgotten_digits(const std::string& path) {
  std::map<std::string, std::string> meta;
  load_safetensors(path, &meta);
  auto it = meta.find("forgotten");
  return it == meta.end() ? std::vector<int>{} : parse_digit_list(it->second);
}
