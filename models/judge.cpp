#include "models/judge.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops/batchnorm.h"
#include "engine/ops/bias_act.h"
#include "engine/ops/dropout.h"
#include "engine/ops/pool.h"
#include "engine/ops/softmax_xent.h"
#include "engine/checkpoint_kind.h"
#include "engine/safetensors.h"

namespace {
// Feature-map sizes along the network (square maps).
constexpr int kC1 = 10, kC2 = 20, kS1 = 24, kP1 = 12, kS2 = 8, kP2 = 4, kFlat = kC2 * kP2 * kP2, kHidden = 50;

PoolGeom pool1(int rows) { return PoolGeom{rows, kC1, kS1, kS1, 2, 2, 0}; }
PoolGeom pool2(int rows) { return PoolGeom{rows, kC2, kS2, kS2, 2, 2, 0}; }

// Judges saved before the class count was recorded are 10-class.
int recorded_classes(const std::map<std::string, std::string>& meta, const std::string& path) {
  auto it = meta.find("classes");
  if (it == meta.end()) return Judge::kDigits;
  if (it->second != "10" && it->second != "11")
    throw std::runtime_error(path + ": unreadable class count '" + it->second + "' in its metadata");
  return std::stoi(it->second);
}
}  // namespace

Judge::Judge(const Backend& be, uint64_t init_seed, int classes) : classes_(classes) {
  if (classes != kDigits && classes != kDigits + 1)
    throw std::runtime_error("judge: " + std::to_string(classes) + " classes (10, or 11 with \"no digit\")");
  conv1_ = Conv2d(params_, "conv1", 1, kC1, 5);
  bn1_ = BatchNorm(params_, "bn1", kC1);
  conv2_ = Conv2d(params_, "conv2", kC1, kC2, 5);
  bn2_ = BatchNorm(params_, "bn2", kC2);
  fc1_ = Linear(params_, "fc1", kFlat, kHidden, Act::ReLU);
  fc2_ = Linear(params_, "fc2", kHidden, classes_, Act::None);
  params_.allocate(be, init_seed);
  bn1_.init(be, params_);
  bn2_.init(be, params_);
  adam_ = Adam(be, params_, AdamHyper{});  // PyTorch's defaults; the rate is set per step
  zeros_ = Buffer<float>(be, kC2);
}

void Judge::set_dropout(float rate) {
  if (!(rate >= 0.0f && rate < 1.0f)) throw std::runtime_error("judge: dropout rate must be in [0, 1)");
  dropout_ = rate;
}

void Judge::reserve(const Backend& be, int rows, bool grads) {
  auto f = [&](int per_row) { return Buffer<float>(be, static_cast<size_t>(rows) * per_row); };
  if (rows > capacity_) {
    c1_ = f(kC1 * kS1 * kS1); b1_ = f(kC1 * kS1 * kS1); a1_ = f(kC1 * kP1 * kP1);
    c2_ = f(kC2 * kS2 * kS2); b2_ = f(kC2 * kS2 * kS2); a2_ = f(kFlat);
    f1_ = f(kHidden); f1d_ = f(kHidden); logits_ = f(classes_);
    mask2_ = f(kC2); mask1_ = f(kHidden);
    arg1_ = Buffer<int>(be, static_cast<size_t>(rows) * kC1 * kP1 * kP1);
    arg2_ = Buffer<int>(be, static_cast<size_t>(rows) * kFlat);
    capacity_ = rows;
  }
  if (grads && rows > grad_capacity_) {
    dlogits_ = f(classes_); df1d_ = f(kHidden); da2_ = f(kFlat);
    db2_ = f(kC2 * kS2 * kS2); dc2_ = f(kC2 * kS2 * kS2);
    da1_ = f(kC1 * kP1 * kP1); db1_ = f(kC1 * kS1 * kS1); dc1_ = f(kC1 * kS1 * kS1);
    grad_capacity_ = rows;
  }
}

void Judge::forward(Backend& be, const float* x, int rows, bool training) {
  const ParamStore& p = params_;
  // Block 1: conv -> bn -> max-pool -> ReLU.
  conv1_.forward(be, p, x, rows, kSide, kSide, c1_.data());
  if (training) bn1_.forward_train(be, p, c1_.data(), rows, kS1 * kS1, b1_.data());
  else bn1_.forward_eval(be, p, c1_.data(), rows, kS1 * kS1, b1_.data());
  // The winners are kept in evaluation mode too: input_gradient routes its backward through them.
  maxpool_fwd(be, b1_.data(), pool1(rows), a1_.data(), arg1_.data());
  bias_act_fwd(be, a1_.data(), nullptr, rows, kC1 * kP1 * kP1, Act::ReLU);

  // Block 2: conv -> bn -> channel dropout -> max-pool -> ReLU. Dropout works in place on b2: the
  // backward needs only its multipliers (bn2's backward reads c2, the pool's its winners).
  conv2_.forward(be, p, a1_.data(), rows, kP1, kP1, c2_.data());
  if (training) {
    bn2_.forward_train(be, p, c2_.data(), rows, kS2 * kS2, b2_.data());
    dropout_fwd(be, b2_.data(), mask2_.data(), static_cast<int64_t>(rows) * kC2 * kS2 * kS2, kS2 * kS2, dropout_,
                b2_.data());
  } else {
    bn2_.forward_eval(be, p, c2_.data(), rows, kS2 * kS2, b2_.data());
  }
  maxpool_fwd(be, b2_.data(), pool2(rows), a2_.data(), arg2_.data());
  bias_act_fwd(be, a2_.data(), nullptr, rows, kFlat, Act::ReLU);

  // Head: the NCHW map of one image is already its flattened 320-vector (PyTorch's x.view(-1, 320)).
  fc1_.forward(be, p, a2_.data(), rows, f1_.data());
  const float* head_in = f1_.data();
  if (training) {
    dropout_fwd(be, f1_.data(), mask1_.data(), static_cast<int64_t>(rows) * kHidden, 1, dropout_, f1d_.data());
    head_in = f1d_.data();
  }
  fc2_.forward(be, p, head_in, rows, logits_.data());
}

void Judge::forward_backward(Backend& be, const float* x, const int* labels, int rows, float scale, float* loss_sum) {
  reserve(be, rows, true);
  forward(be, x, rows, true);
  softmax_xent(be, logits_.data(), labels, rows, classes_, scale, dlogits_.data(), loss_sum);
  backward(be, x, rows, true, nullptr);  // the images need no gradient
}

void Judge::input_gradient(Backend& be, const float* x, const int* labels, int rows, float scale, float* dx,
                           float* loss_sum) {
  reserve(be, rows, true);
  forward(be, x, rows, false);
  softmax_xent(be, logits_.data(), labels, rows, classes_, scale, dlogits_.data(), loss_sum);
  backward(be, x, rows, false, dx);
}

void Judge::bn_backward(const Backend& be, const BatchNorm& bn, bool training, const float* x, const float* dy, int rows,
                        int hw, float* dx) const {
  if (training) return bn.backward(be, params_, x, dy, rows, hw, dx);
  // With running statistics the layer is the per-channel affine map y = gamma / sqrt(var + eps) * x + shift,
  // so dx = gamma / sqrt(var + eps) * dy: the evaluation forward itself applied to dy with the shift at zero.
  batchnorm_fwd_eval(be, dy, params_.value(bn.gamma), zeros_.data(), zeros_.data(), bn.running_var(), rows, bn.c, hw,
                     bn.eps, dx);
}

void Judge::backward(Backend& be, const float* x, int rows, bool training, float* dx) {
  const ParamStore& p = params_;
  // Without dropout fc2 read f1 itself.
  fc2_.backward(be, p, training ? f1d_.data() : f1_.data(), logits_.data(), dlogits_.data(), rows, df1d_.data());
  if (training) dropout_bwd(be, df1d_.data(), mask1_.data(), static_cast<int64_t>(rows) * kHidden, 1, df1d_.data());
  // fc1's ReLU derivative is read from its output before dropout (f1), which is what the ReLU produced.
  fc1_.backward(be, p, a2_.data(), f1_.data(), df1d_.data(), rows, da2_.data());

  bias_act_bwd(be, da2_.data(), a2_.data(), nullptr, rows, kFlat, Act::ReLU);
  maxpool_bwd(be, da2_.data(), arg2_.data(), pool2(rows), db2_.data());
  if (training)
    dropout_bwd(be, db2_.data(), mask2_.data(), static_cast<int64_t>(rows) * kC2 * kS2 * kS2, kS2 * kS2, db2_.data());
  bn_backward(be, bn2_, training, c2_.data(), db2_.data(), rows, kS2 * kS2, dc2_.data());
  conv2_.backward(be, p, a1_.data(), dc2_.data(), rows, kP1, kP1, da1_.data());

  bias_act_bwd(be, da1_.data(), a1_.data(), nullptr, rows, kC1 * kP1 * kP1, Act::ReLU);
  maxpool_bwd(be, da1_.data(), arg1_.data(), pool1(rows), db1_.data());
  bn_backward(be, bn1_, training, c1_.data(), db1_.data(), rows, kS1 * kS1, dc1_.data());
  conv1_.backward(be, p, x, dc1_.data(), rows, kSide, kSide, dx);
}

void Judge::train_step(Backend& be, const float* x, const int* labels, int rows, float lr, float* loss_sum) {
  params_.zero_grad(be);
  forward_backward(be, x, labels, rows, 1.0f / static_cast<float>(rows), loss_sum);
  adam_.set_lr(lr);
  adam_.step(be, params_);
}

void Judge::logits(const Backend& be, const float* x, int n, float* out) {
  // Eval mode draws no random numbers, so a copy of the backend (same device) is all forward needs.
  Backend local = be;
  for (int start = 0; start < n; start += kEvalChunk) {
    const int rows = std::min(kEvalChunk, n - start);
    reserve(be, rows, false);
    forward(local, x + static_cast<int64_t>(start) * kPixels, rows, false);
    copy_on(be, out + static_cast<int64_t>(start) * classes_, logits_.data(), sizeof(float) * rows * classes_);
  }
}

void Judge::probabilities(const Backend& be, const float* x, int n, float* out) {
  logits(be, x, n, out);
  softmax(be, out, n, classes_, out);
}

void Judge::save(const Backend& be, const std::string& path, const std::map<std::string, std::string>& meta) const {
  std::vector<NamedTensor> ts = params_.to_named(be);
  bn1_.append_stats(be, ts);
  bn2_.append_stats(be, ts);
  std::map<std::string, std::string> m = meta;
  m["model"] = "judge";
  m["classes"] = std::to_string(classes_);
  save_safetensors(path, ts, m);
}

void Judge::load(const Backend& be, const std::string& path) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> ts = load_safetensors(path, &meta);
  check_checkpoint_kind(meta, "judge", "a judge classifier", path, "train one with sa_judge");
  const int recorded = recorded_classes(meta, path);
  if (recorded != classes_)
    throw std::runtime_error(path + ": a " + std::to_string(recorded) + "-class judge, not " + std::to_string(classes_) +
                             "-class (build it with Judge::classes_in)");
  params_.load_named(be, ts, path);
  bn1_.load_stats(be, ts, path);
  bn2_.load_stats(be, ts, path);
}

int Judge::classes_in(const std::string& path) {
  std::map<std::string, std::string> meta;
  load_safetensors(path, &meta);
  return recorded_classes(meta, path);
}

std::vector<float> judge_probabilities(Backend& be, Judge& judge, const float* images_dev, int n) {
  std::vector<float> host(static_cast<size_t>(n) * judge.classes());
  if (n <= 0) return host;
  Buffer<float> probs(be, host.size());
  judge.probabilities(be, images_dev, n, probs.data());
  copy_out(be, host.data(), probs.data(), host.size() * sizeof(float));
  return host;
}

double judge_accuracy(Backend& be, Judge& judge, const Dataset& d) {
  if (d.dim() != Judge::kPixels) throw std::runtime_error("judge_accuracy: the judge takes 28x28 images");
  if (d.count == 0) return 0.0;
  // Upload a slice at a time so a 60k-image set never needs its own 190 MB device copy.
  const int slice = 10000;
  Buffer<float> images(be, static_cast<size_t>(std::min(slice, d.count)) * Judge::kPixels);
  int correct = 0;
  for (int start = 0; start < d.count; start += slice) {
    const int n = std::min(slice, d.count - start);
    copy_in(be, images.data(), d.images.data() + static_cast<size_t>(start) * Judge::kPixels,
            sizeof(float) * n * Judge::kPixels);
    std::vector<float> p = judge_probabilities(be, judge, images.data(), n);
    for (int i = 0; i < n; ++i) {
      const float* row = p.data() + static_cast<size_t>(i) * judge.classes();
      const int guess = static_cast<int>(std::max_element(row, row + judge.classes()) - row);
      correct += guess == d.labels[start + i];
    }
  }
  return static_cast<double>(correct) / d.count;
}
