#include "models/mae.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops/bce_logits.h"
#include "engine/ops/bias_act.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/softmax_entropy.h"
#include "engine/ops/softmax_xent.h"
#include "engine/checkpoint_kind.h"
#include "engine/safetensors.h"

Mae::Mae(const Backend& be, int code_dim, uint64_t init_seed) : code_(code_dim) {
  if (code_dim < 1) throw std::invalid_argument("mae: the code needs at least one dimension");
  conv1_ = Conv2d(ae_, "ae.conv1", 1, kC1, 3, 2, 1);
  conv2_ = Conv2d(ae_, "ae.conv2", kC1, kC2, 3, 2, 1);
  enc_ = Linear(ae_, "ae.enc", kFlat, code_, Act::None);
  dec_ = Linear(ae_, "ae.dec", code_, kFlat, Act::ReLU);
  deconv1_ = ConvTranspose2d(ae_, "ae.deconv1", kC2, kC1, 3, 2, 1, 1);
  deconv2_ = ConvTranspose2d(ae_, "ae.deconv2", kC1, 1, 3, 2, 1, 1);
  head_ = Linear(q_, "q.q", code_, kClasses, Act::None);
  ae_.allocate(be, init_seed);
  q_.allocate(be, init_seed + 1);  // its own stream: the autoencoder starts the same whatever Q is
}

void Mae::reserve(const Backend& be, int rows, bool grads) {
  auto f = [&](int per_row) { return Buffer<float>(be, static_cast<size_t>(rows) * per_row); };
  if (rows > capacity_) {
    a1_ = f(kC1 * kS1 * kS1); a2_ = f(kFlat); code_buf_ = f(code_); h_ = f(kFlat);
    d1_ = f(kC1 * kS1 * kS1); logits_ = f(kPixels); qlogits_ = f(kClasses);
    capacity_ = rows;
  }
  if (grads && rows > grad_capacity_) {
    dlogits_ = f(kPixels); dqlogits_ = f(kClasses); dd1_ = f(kC1 * kS1 * kS1); dh_ = f(kFlat);
    dcode_ = f(code_); dcode_q_ = f(code_); da2_ = f(kFlat); da1_ = f(kC1 * kS1 * kS1);
    grad_capacity_ = rows;
  }
}

void Mae::forward(const Backend& be, const float* x, int rows) {
  // Encoder. Conv2d has no activation of its own: ReLU in place, as the judge does.
  conv1_.forward(be, ae_, x, rows, kSide, kSide, a1_.data());
  bias_act_fwd(be, a1_.data(), nullptr, rows, kC1 * kS1 * kS1, Act::ReLU);
  conv2_.forward(be, ae_, a1_.data(), rows, kS1, kS1, a2_.data());
  bias_act_fwd(be, a2_.data(), nullptr, rows, kFlat, Act::ReLU);  // the NCHW map is already the flat 1568-vector
  enc_.forward(be, ae_, a2_.data(), rows, code_buf_.data());
  // Decoder.
  dec_.forward(be, ae_, code_buf_.data(), rows, h_.data());
  deconv1_.forward(be, ae_, h_.data(), rows, kS2, kS2, d1_.data());
  bias_act_fwd(be, d1_.data(), nullptr, rows, kC1 * kS1 * kS1, Act::ReLU);
  deconv2_.forward(be, ae_, d1_.data(), rows, kS1, kS1, logits_.data());
  // Q layer.
  head_.forward(be, q_, code_buf_.data(), rows, qlogits_.data());
}

void Mae::forward_backward(const Backend& be, const float* x, int rows, const MaeObjective& obj, float scale,
                           const MaeLosses& losses) {
  reserve(be, rows, true);
  forward(be, x, rows);
  bce_logits(be, logits_.data(), obj.recon_target, static_cast<int64_t>(rows) * kPixels, scale, dlogits_.data(),
             losses.recon);
  if (obj.labels)
    softmax_xent(be, qlogits_.data(), obj.labels, rows, kClasses, scale, dqlogits_.data(), losses.q);
  else
    softmax_neg_entropy(be, qlogits_.data(), rows, kClasses, scale, dqlogits_.data(), losses.q);

  // Decoder back to the code.
  deconv2_.backward(be, ae_, d1_.data(), dlogits_.data(), rows, kS1, kS1, dd1_.data());
  bias_act_bwd(be, dd1_.data(), d1_.data(), nullptr, rows, kC1 * kS1 * kS1, Act::ReLU);
  deconv1_.backward(be, ae_, h_.data(), dd1_.data(), rows, kS2, kS2, dh_.data());
  dec_.backward(be, ae_, code_buf_.data(), h_.data(), dh_.data(), rows, dcode_.data());
  // The Q layer's share of the code gradient; the loss ops were called unweighted so the reported loss
  // stays comparable across q_weight, so the weight is applied here.
  if (obj.q_weight != 0.0f) {
    scale_copy(be, static_cast<int64_t>(rows) * kClasses, obj.q_weight, dqlogits_.data(), dqlogits_.data());
    head_.backward(be, q_, code_buf_.data(), qlogits_.data(), dqlogits_.data(), rows, dcode_q_.data());
    axpy(be, static_cast<int64_t>(rows) * code_, 1.0f, dcode_q_.data(), dcode_.data());
  }
  // Encoder back to the image (which needs no gradient).
  enc_.backward(be, ae_, a2_.data(), code_buf_.data(), dcode_.data(), rows, da2_.data());
  bias_act_bwd(be, da2_.data(), a2_.data(), nullptr, rows, kFlat, Act::ReLU);
  conv2_.backward(be, ae_, a1_.data(), da2_.data(), rows, kS1, kS1, da1_.data());
  bias_act_bwd(be, da1_.data(), a1_.data(), nullptr, rows, kC1 * kS1 * kS1, Act::ReLU);
  conv1_.backward(be, ae_, x, da1_.data(), rows, kSide, kSide, nullptr);
}

void Mae::outputs(const Backend& be, const float* x, int n, float* recon_logits, float* q_logits) {
  for (int start = 0; start < n; start += kEvalChunk) {
    const int rows = std::min(kEvalChunk, n - start);
    reserve(be, rows, false);
    forward(be, x + static_cast<int64_t>(start) * kPixels, rows);
    if (recon_logits)
      copy_on(be, recon_logits + static_cast<int64_t>(start) * kPixels, logits_.data(), sizeof(float) * rows * kPixels);
    if (q_logits)
      copy_on(be, q_logits + static_cast<int64_t>(start) * kClasses, qlogits_.data(), sizeof(float) * rows * kClasses);
  }
}

void Mae::reconstruct(const Backend& be, const float* x, int n, float* images) {
  outputs(be, x, n, images, nullptr);
  bias_act_fwd(be, images, nullptr, n, kPixels, Act::Sigmoid);
}

void Mae::copy_from(const Backend& be, const Mae& other) {
  if (other.code_ != code_) throw std::logic_error("Mae::copy_from: different code sizes");
  ae_.copy_from(be, other.ae_);
  q_.copy_from(be, other.q_);
}

void Mae::save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta) const {
  std::vector<NamedTensor> ts = ae_.to_named(be);
  for (NamedTensor& t : q_.to_named(be)) ts.push_back(std::move(t));
  std::map<std::string, std::string> m = meta;
  m["model"] = "mae";
  m["code"] = std::to_string(code_);
  save_safetensors(path, ts, m);
}

void Mae::load(const Backend& be, const std::string& path) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> ts = load_safetensors(path, &meta);
  check_checkpoint_kind(meta, "mae", "an MAE", path);
  const int code = checkpoint_int(meta, "code", path);
  if (code != code_)
    throw std::runtime_error(path + ": has code size " + std::to_string(code) + ", this MAE " + std::to_string(code_) +
                             " (set --code to match)");
  ae_.load_named(be, ts, path);
  q_.load_named(be, ts, path);
}
