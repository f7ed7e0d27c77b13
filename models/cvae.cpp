#include "models/cvae.h"

#include "engine/ops/bce_logits.h"
#include "engine/ops/concat.h"
#include "engine/ops/reparam_kl.h"
#include "engine/ops/rng.h"

Cvae::Cvae(const Backend& be, CvaeConfig cfg, uint64_t init_seed) : cfg_(cfg) {
  enc1_ = Linear(params_, "enc1", cfg.x_dim + cfg.n_class, cfg.h1, Act::ReLU);
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
  xc_ = t(c.x_dim + c.n_class); a1_ = t(c.h1); a2_ = t(c.h2); h_ = t(2 * c.z_dim); eps_ = t(c.z_dim); z_ = t(c.z_dim);
  zc_ = t(c.z_dim + c.n_class); d1_ = t(c.h2); d2_ = t(c.h1); logits_ = t(c.x_dim);
  dlogits_ = t(c.x_dim); dd2_ = t(c.h1); dd1_ = t(c.h2); dzc_ = t(c.z_dim + c.n_class); dz_ = t(c.z_dim);
  dh_ = t(2 * c.z_dim); da2_ = t(c.h2); da1_ = t(c.h1);
  capacity_ = rows;
}

void Cvae::encoder_forward(const Backend& be, const float* x, const float* c, int rows) {
  concat_cols(be, x, cfg_.x_dim, c, cfg_.n_class, rows, xc_.data());
  enc1_.forward(be, params_, xc_.data(), rows, a1_.data());
  enc2_.forward(be, params_, a1_.data(), rows, a2_.data());
  enc_head_.forward(be, params_, a2_.data(), rows, h_.data());
}

void Cvae::decoder_forward(const Backend& be, const float* z, const float* c, int rows) {
  concat_cols(be, z, cfg_.z_dim, c, cfg_.n_class, rows, zc_.data());
  dec1_.forward(be, params_, zc_.data(), rows, d1_.data());
  dec2_.forward(be, params_, d1_.data(), rows, d2_.data());
  dec3_.forward(be, params_, d2_.data(), rows, logits_.data());
}

void Cvae::elbo(Backend& be, const float* x, const float* c, int rows, float scale, ElboSums sums, bool backward,
                float* fisher, float fisher_scale) {
  reserve_batch(be, rows);
  const CvaeConfig& k = cfg_;
  encoder_forward(be, x, c, rows);
  fill_normal(be, eps_.data(), static_cast<int64_t>(rows) * k.z_dim);
  reparam_kl_fwd(be, h_.data(), eps_.data(), rows, k.z_dim, scale, z_.data(), sums.kl);
  decoder_forward(be, z_.data(), c, rows);
  bce_logits(be, logits_.data(), x, static_cast<int64_t>(rows) * k.x_dim, scale, backward ? dlogits_.data() : nullptr,
             sums.bce);
  if (!backward) return;

  dec3_.backward(be, params_, d2_.data(), logits_.data(), dlogits_.data(), rows, dd2_.data(), fisher, fisher_scale);
  dec2_.backward(be, params_, d1_.data(), d2_.data(), dd2_.data(), rows, dd1_.data(), fisher, fisher_scale);
  dec1_.backward(be, params_, zc_.data(), d1_.data(), dd1_.data(), rows, dzc_.data(), fisher, fisher_scale);
  slice_cols(be, dzc_.data(), k.z_dim + k.n_class, 0, k.z_dim, rows, dz_.data());
  reparam_kl_bwd(be, h_.data(), eps_.data(), dz_.data(), rows, k.z_dim, scale, dh_.data());
  enc_head_.backward(be, params_, a2_.data(), h_.data(), dh_.data(), rows, da2_.data(), fisher, fisher_scale);
  enc2_.backward(be, params_, a1_.data(), a2_.data(), da2_.data(), rows, da1_.data(), fisher, fisher_scale);
  enc1_.backward(be, params_, xc_.data(), a1_.data(), da1_.data(), rows, nullptr, fisher, fisher_scale);
}

void Cvae::decode(const Backend& be, const float* z, const float* c, int rows, float* images) {
  reserve_batch(be, rows);
  decoder_forward(be, z, c, rows);
  copy_on(be, images, logits_.data(), sizeof(float) * rows * cfg_.x_dim);
  bias_act_fwd(be, images, nullptr, rows, cfg_.x_dim, Act::Sigmoid);
}

void Cvae::encode_mean(const Backend& be, const float* x, const float* c, int rows, float* mu) {
  reserve_batch(be, rows);
  encoder_forward(be, x, c, rows);
  slice_cols(be, h_.data(), 2 * cfg_.z_dim, 0, cfg_.z_dim, rows, mu);
}

void Cvae::save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta) const {
  std::map<std::string, std::string> m = meta;
  m["model"] = "cvae";
  m["z_dim"] = std::to_string(cfg_.z_dim);
  save_safetensors(path, params_.to_named(be), m);
}

void Cvae::load(const Backend& be, const std::string& path) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> ts = load_safetensors(path, &meta);
  if (meta.count("model") && meta["model"] != "cvae")
    throw std::runtime_error(path + ": is a '" + meta["model"] + "' checkpoint, not a CVAE");
  params_.load_named(be, ts, path);
}
