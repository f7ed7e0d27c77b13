#include "models/lntl.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/ops/bias_act.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/pool.h"
#include "engine/ops/softmax_entropy.h"
#include "engine/ops/softmax_xent.h"
#include "engine/ops/transpose.h"
#include "engine/checkpoint_kind.h"
#include "engine/safetensors.h"

namespace {
constexpr int kSide = ColoredMnist::kSide, kPixels = ColoredMnist::kPixels, kBins = ColoredMnist::kBins;
constexpr int kMapFloats = LntlNets::kFeat * LntlNets::kMapPixels;                            // f's output
constexpr int kWideFloats = LntlNets::kWide * LntlNets::kSmall * LntlNets::kSmall;            // g's conv maps
constexpr int kBinFloats = kBins * LntlNets::kMapPixels;                                      // one head's logits
constexpr int kHeadsFloats = LntlNets::kHeads * kMapFloats;                                   // h's conv1 maps

PoolGeom max_pool(int n) { return PoolGeom{n, LntlNets::kFeat, kSide, kSide, 3, 2, 1}; }
PoolGeom global_pool(int n) {
  return PoolGeom{n, LntlNets::kWide, LntlNets::kSmall, LntlNets::kSmall, LntlNets::kSmall, LntlNets::kSmall, 0};
}
void relu(const Backend& be, float* y, int n, int per_image) { bias_act_fwd(be, y, nullptr, n, per_image, Act::ReLU); }
void relu_bwd(const Backend& be, float* dy, const float* y, int n, int per_image) {
  bias_act_bwd(be, dy, y, nullptr, n, per_image, Act::ReLU);
}
// The official code re-initialises f's and g's conv weights He-style, N(0, 2 / (k*k*out)). Scaling
// ParamStore's seeded U(-1/sqrt(fan_in), 1/sqrt(fan_in)) by sqrt(6 in / out) gives the same variance
// (a uniform of bound sqrt(6 / (k*k*out))) on every device.
void he_rescale(const Backend& be, const ParamStore& p, const Conv2d& conv) {
  const float factor = std::sqrt(6.0f * static_cast<float>(conv.in) / static_cast<float>(conv.out));
  const int64_t n = static_cast<int64_t>(conv.out) * conv.in * conv.k * conv.k;
  scale_copy(be, n, factor, p.value(conv.w), p.value(conv.w));
}
}  // namespace

LntlNets::LntlNets(const Backend& be, uint64_t init_seed) {
  bn_in_ = BatchNorm(f_, "f.bn0", ColoredMnist::kChannels);
  conv1_ = Conv2d(f_, "f.conv1", ColoredMnist::kChannels, kFeat, 5, 1, 2);
  conv2_ = Conv2d(f_, "f.conv2", kFeat, kFeat, 3, 1, 1);
  conv3_ = Conv2d(g_, "g.conv1", kFeat, kWide, 3, 2, 1);
  conv4_ = Conv2d(g_, "g.conv2", kWide, kWide, 3, 1, 1);
  fc_ = Linear(g_, "g.fc", kWide, kClasses, Act::None);
  // h: each head's conv1 weight, then their biases, BN gammas and BN betas, back to back across the heads,
  // so one 96-channel layer runs over all three (see lntl.h); the bound is nn.Conv2d's default.
  const std::string heads[kHeads] = {"h.r", "h.g", "h.b"};
  const float bound = 1.0f / std::sqrt(static_cast<float>(kFeat * 3 * 3));
  size_t first[4] = {};
  const char* kinds[4] = {".conv1.weight", ".conv1.bias", ".bn.weight", ".bn.bias"};
  for (int kind = 0; kind < 4; ++kind)
    for (int c = 0; c < kHeads; ++c) {
      std::vector<int> shape = kind == 0 ? std::vector<int>{kFeat, kFeat, 3, 3} : std::vector<int>{kFeat};
      const size_t at = h_.reserve(heads[c] + kinds[kind], shape, kind < 2 ? bound : 0.0f);  // BN: set by init()
      if (c == 0) first[kind] = at;
    }
  heads_conv1_ = Conv2d::over(first[0], first[1], kFeat, kHeads * kFeat, 3, 1, 1);
  heads_bn_ = BatchNorm::over(first[2], first[3], kHeads * kFeat, {heads[0] + ".bn", heads[1] + ".bn", heads[2] + ".bn"});
  for (int c = 0; c < kHeads; ++c) heads_conv2_[c] = Conv2d(h_, heads[c] + ".conv2", kFeat, kBins, 3, 1, 1);
  f_.allocate(be, init_seed);
  g_.allocate(be, init_seed + 1);
  he_rescale(be, f_, conv1_);
  he_rescale(be, f_, conv2_);
  he_rescale(be, g_, conv3_);
  he_rescale(be, g_, conv4_);
  h_.allocate(be, init_seed + 2);
  bn_in_.init(be, f_);
  heads_bn_.init(be, h_);
  mom_f_ = Buffer<float>(be, f_.size());
  mom_g_ = Buffer<float>(be, g_.size());
  mom_h_ = Buffer<float>(be, h_.size());
}

void LntlNets::reserve(const Backend& be, int n) {
  if (n <= capacity_) return;
  auto f = [&](int per_image) { return Buffer<float>(be, static_cast<size_t>(n) * per_image); };
  const int image = ColoredMnist::kDim, big = kFeat * kPixels;
  xb_ = f(image); c1_ = f(big); p1_ = f(kMapFloats); feat_ = f(kMapFloats);
  arg1_ = Buffer<int>(be, static_cast<size_t>(n) * kMapFloats);
  c3_ = f(kWideFloats); c4_ = f(kWideFloats); pooled_ = f(kWide); logits_ = f(kClasses);
  ha_ = f(kHeadsFloats); hb_ = f(kHeadsFloats); hb_heads_ = f(kHeadsFloats); ho_ = f(kBinFloats); rows_ = f(kHeads * kBinFloats);
  dfeat_ = f(kMapFloats); dp1_ = f(kMapFloats); dc1_ = f(big);
  dlogits_ = f(kClasses); dpooled_ = f(kWide); dc4_ = f(kWideFloats); dc3_ = f(kWideFloats);
  drows_ = f(kHeads * kBinFloats); dho_ = f(kBinFloats); dhb_heads_ = f(kHeadsFloats); dhb_ = f(kHeadsFloats);
  dha_ = f(kHeadsFloats); dfeat_head_ = f(kMapFloats);
  capacity_ = n;
}

void LntlNets::forward_f(const Backend& be, const float* x, int n, bool training) {
  if (training) bn_in_.forward_train(be, f_, x, n, kPixels, xb_.data());
  else bn_in_.forward_eval(be, f_, x, n, kPixels, xb_.data());
  conv1_.forward(be, f_, xb_.data(), n, kSide, kSide, c1_.data());
  // ReLU after the pool instead of before: max commutes with the monotone ReLU, so the values, the
  // winners (the first maximum of each window) and the gradients are those of ReLU-then-pool, bit for
  // bit, on a quarter of the elements (c1_ keeps the pre-ReLU map, which backward no longer reads).
  maxpool_fwd(be, c1_.data(), max_pool(n), p1_.data(), training ? arg1_.data() : nullptr);
  relu(be, p1_.data(), n, kMapFloats);
  conv2_.forward(be, f_, p1_.data(), n, kMap, kMap, feat_.data());
  relu(be, feat_.data(), n, kMapFloats);
}

void LntlNets::backward_f(const Backend& be, const float* x, int n) {
  relu_bwd(be, dfeat_.data(), feat_.data(), n, kMapFloats);
  conv2_.backward(be, f_, p1_.data(), dfeat_.data(), n, kMap, kMap, dp1_.data());
  relu_bwd(be, dp1_.data(), p1_.data(), n, kMapFloats);
  maxpool_bwd(be, dp1_.data(), arg1_.data(), max_pool(n), dc1_.data());
  input_grads_.backward(be, f_, bn_in_, conv1_, x, dc1_.data(), n, kSide, kSide);  // the images need no gradient
}

void LntlNets::forward_g(const Backend& be, int n) {
  conv3_.forward(be, g_, feat_.data(), n, kMap, kMap, c3_.data());
  relu(be, c3_.data(), n, kWideFloats);
  conv4_.forward(be, g_, c3_.data(), n, kSmall, kSmall, c4_.data());
  relu(be, c4_.data(), n, kWideFloats);
  avgpool_fwd(be, c4_.data(), global_pool(n), pooled_.data());
  fc_.forward(be, g_, pooled_.data(), n, logits_.data());
}

void LntlNets::backward_g(const Backend& be, int n) {
  fc_.backward(be, g_, pooled_.data(), logits_.data(), dlogits_.data(), n, dpooled_.data());
  avgpool_bwd(be, dpooled_.data(), global_pool(n), dc4_.data());
  relu_bwd(be, dc4_.data(), c4_.data(), n, kWideFloats);
  conv4_.backward(be, g_, c3_.data(), dc4_.data(), n, kSmall, kSmall, dc3_.data());
  relu_bwd(be, dc3_.data(), c3_.data(), n, kWideFloats);
  conv3_.backward(be, g_, feat_.data(), dc3_.data(), n, kMap, kMap, dfeat_.data());
}

void LntlNets::forward_heads(const Backend& be, int n) {
  heads_conv1_.forward(be, h_, feat_.data(), n, kMap, kMap, ha_.data());
  heads_bn_.forward_train(be, h_, ha_.data(), n, kMapPixels, hb_.data());  // h only ever runs in training
  relu(be, hb_.data(), n, kHeadsFloats);
  // n x (3 heads x 32 channels) x 196 -> 3 x n x 32 x 196, so each head's second convolution reads a plain batch.
  nchw_to_cnhw(be, hb_.data(), n, kHeads, kMapFloats, hb_heads_.data());
  const int64_t head_maps = static_cast<int64_t>(n) * kMapFloats, head_rows = static_cast<int64_t>(n) * kBinFloats;
  for (int c = 0; c < kHeads; ++c) {
    heads_conv2_[c].forward(be, h_, hb_heads_.data() + c * head_maps, n, kMap, kMap, ho_.data());
    // n x 8 x 196 -> (n*196) x 8: one softmax row per pixel, in the order of gather_batch's bin labels.
    batched_transpose(be, ho_.data(), n, kBins, kMapPixels, rows_.data() + c * head_rows);
  }
}

void LntlNets::backward_heads(const Backend& be, int n, float feat_grad_scale, bool head_grads) {
  const int64_t head_maps = static_cast<int64_t>(n) * kMapFloats, head_rows = static_cast<int64_t>(n) * kBinFloats;
  for (int c = 0; c < kHeads; ++c) {
    batched_transpose(be, drows_.data() + c * head_rows, n, kMapPixels, kBins, dho_.data());
    float* dx = dhb_heads_.data() + c * head_maps;
    if (head_grads) heads_conv2_[c].backward(be, h_, hb_heads_.data() + c * head_maps, dho_.data(), n, kMap, kMap, dx);
    else heads_conv2_[c].backward_input(be, h_, dho_.data(), n, kMap, kMap, dx);
  }
  cnhw_to_nchw(be, dhb_heads_.data(), nullptr, n, kHeads, kMapFloats, dhb_.data());
  relu_bwd(be, dhb_.data(), hb_.data(), n, kHeadsFloats);
  // The batch norms' gamma/beta sums come with their data gradient at no extra cost; lntl_step drops them.
  heads_bn_.backward(be, h_, ha_.data(), dhb_.data(), n, kMapPixels, dha_.data());
  if (head_grads) heads_conv1_.backward(be, h_, feat_.data(), dha_.data(), n, kMap, kMap, dfeat_head_.data());
  else heads_conv1_.backward_input(be, h_, dha_.data(), n, kMap, kMap, dfeat_head_.data());
  // With feat_grad_scale = -mu this axpy IS the gradient-reversal layer: identity forward, -mu backward.
  axpy(be, static_cast<int64_t>(n) * kMapFloats, feat_grad_scale, dfeat_head_.data(), dfeat_.data());
}

void LntlNets::digit_forward_backward(Backend& be, const float* x, const int* labels, int n, float lambda,
                                      const LntlLosses& losses) {
  reserve(be, n);
  forward_f(be, x, n, true);
  forward_g(be, n);
  softmax_xent(be, logits_.data(), labels, n, kClasses, 1.0f / static_cast<float>(n), dlogits_.data(), losses.ce);
  backward_g(be, n);
  if (lambda != 0.0f) {
    // lambda * (1/3) sum over heads of the mean over n*196 pixels of sum_j p log p.
    const int rows = n * kMapPixels;
    const float scale = lambda / (static_cast<float>(kHeads) * static_cast<float>(rows));
    forward_heads(be, n);
    softmax_neg_entropy(be, rows_.data(), kHeads * rows, kBins, scale, drows_.data(), losses.neg_entropy);
    backward_heads(be, n, 1.0f, false);
  }
  backward_f(be, x, n);
}

void LntlNets::colour_forward_backward(Backend& be, const float* x, const int* bins, const ColourBinCounts& valid, int n,
                                       float feat_grad_scale, const LntlLosses& losses) {
  reserve(be, n);
  forward_f(be, x, n, true);
  fill(be, dfeat_.data(), static_cast<int64_t>(n) * kMapFloats, 0.0f);
  // Each head: PyTorch's cross_entropy(ignore_index) mean over its channel's labelled pixels. The heads
  // are SUMMED, as in the official trainer, so f's reversed gradient is 3 x mu x one head's.
  const int rows = n * kMapPixels;
  forward_heads(be, n);
  for (int c = 0; c < kHeads; ++c) {
    const float scale = valid[c] > 0 ? 1.0f / static_cast<float>(valid[c]) : 0.0f;
    const int64_t at = static_cast<int64_t>(c) * rows;
    softmax_xent(be, rows_.data() + at * kBins, bins + at, rows, kBins, scale, drows_.data() + at * kBins,
                 losses.colour_ce);
  }
  backward_heads(be, n, feat_grad_scale, true);
  backward_f(be, x, n);
}

void LntlNets::sgd(const Backend& be, ParamStore& p, Buffer<float>& momentum, const SgdHyper& opt) {
  sgd_step(be, p.values(), p.grads(), momentum.data(), static_cast<int64_t>(p.size()), opt);
}

void LntlNets::baseline_step(Backend& be, const float* x, const int* labels, int n, const SgdHyper& opt,
                             const LntlLosses& losses) {
  f_.zero_grad(be);
  g_.zero_grad(be);
  digit_forward_backward(be, x, labels, n, 0.0f, losses);
  sgd(be, f_, mom_f_, opt);
  sgd(be, g_, mom_g_, opt);
}

void LntlNets::lntl_step(Backend& be, const float* x, const int* labels, const int* bins, const ColourBinCounts& valid, int n,
                         const SgdHyper& opt, const LntlGame& game, const LntlLosses& losses) {
  // (1) f and g learn the digit while pushing h towards uniform colour predictions. h's gradients from
  // this pass are dropped: step (1) does not move h.
  f_.zero_grad(be);
  g_.zero_grad(be);
  h_.zero_grad(be);
  digit_forward_backward(be, x, labels, n, game.lambda, losses);
  sgd(be, f_, mom_f_, opt);
  sgd(be, g_, mom_g_, opt);
  // (2) h learns to read the colour from the (updated) features; f gets -mu times that gradient.
  f_.zero_grad(be);
  h_.zero_grad(be);
  colour_forward_backward(be, x, bins, valid, n, -game.mu, losses);
  SgdHyper h_opt = opt;
  h_opt.lr = opt.lr * game.h_lr_scale;
  sgd(be, h_, mom_h_, h_opt);
  sgd(be, f_, mom_f_, opt);
  if (game.g_in_colour_step) {
    g_.zero_grad(be);
    sgd(be, g_, mom_g_, opt);
  }
}

void LntlNets::logits(const Backend& be, const float* x, int n, float* out) {
  for (int start = 0; start < n; start += kEvalChunk) {
    const int rows = std::min(kEvalChunk, n - start);
    reserve(be, rows);
    forward_f(be, x + static_cast<int64_t>(start) * ColoredMnist::kDim, rows, false);
    forward_g(be, rows);
    copy_on(be, out + static_cast<int64_t>(start) * kClasses, logits_.data(), sizeof(float) * rows * kClasses);
  }
}

void LntlNets::save(const Backend& be, const std::string& path, bool with_h,
                    const std::map<std::string, std::string>& meta) const {
  std::vector<NamedTensor> ts = f_.to_named(be);
  for (NamedTensor& t : g_.to_named(be)) ts.push_back(std::move(t));
  bn_in_.append_stats(be, ts);
  if (with_h) {
    for (NamedTensor& t : h_.to_named(be)) ts.push_back(std::move(t));
    heads_bn_.append_stats(be, ts);
  }
  auto add_momentum = [&](const ParamStore& p, const Buffer<float>& m) {
    for (NamedTensor& t : p.to_named(be, m.data())) ts.push_back({kMomentumPrefix + t.name, t.shape, std::move(t.data)});
  };
  add_momentum(f_, mom_f_);
  add_momentum(g_, mom_g_);
  if (with_h) add_momentum(h_, mom_h_);
  std::map<std::string, std::string> m = meta;
  m["model"] = "lntl";
  save_safetensors(path, ts, m);
}

void LntlNets::load(const Backend& be, const std::string& path, bool with_h) {
  std::map<std::string, std::string> meta;
  std::vector<NamedTensor> ts = load_safetensors(path, &meta);
  check_checkpoint_kind(meta, "lntl", "an lntl checkpoint", path);
  f_.load_named(be, ts, path);
  g_.load_named(be, ts, path);
  bn_in_.load_stats(be, ts, path);
  if (!with_h) return;
  h_.load_named(be, ts, path);
  heads_bn_.load_stats(be, ts, path);
}

void LntlNets::load_momentum(const Backend& be, const std::string& path, bool with_h) {
  std::vector<NamedTensor> momentum;
  for (NamedTensor& t : load_safetensors(path))
    if (t.name.rfind(kMomentumPrefix, 0) == 0) momentum.push_back({t.name.substr(kMomentumPrefix.size()), t.shape, std::move(t.data)});
  if (momentum.empty()) throw std::runtime_error(path + ": holds no SGD momentum (written before checkpoints could be resumed)");
  f_.load_named(be, momentum, path, mom_f_.data());
  g_.load_named(be, momentum, path, mom_g_.data());
  if (with_h) h_.load_named(be, momentum, path, mom_h_.data());
}

std::vector<int> predict_digits(const Backend& be, LntlNets& nets, const ColoredMnist& d) {
  // Upload a slice at a time so the whole set never needs its own device copy.
  const int slice = 5000;
  std::vector<int> out(d.count);
  Buffer<float> images(be, static_cast<size_t>(std::min(slice, std::max(d.count, 1))) * ColoredMnist::kDim);
  Buffer<float> logits(be, static_cast<size_t>(std::min(slice, std::max(d.count, 1))) * LntlNets::kClasses);
  std::vector<float> host(logits.size());
  for (int start = 0; start < d.count; start += slice) {
    const int n = std::min(slice, d.count - start);
    copy_in(be, images.data(), d.images.data() + static_cast<size_t>(start) * ColoredMnist::kDim,
            sizeof(float) * n * ColoredMnist::kDim);
    nets.logits(be, images.data(), n, logits.data());
    copy_out(be, host.data(), logits.data(), sizeof(float) * n * LntlNets::kClasses);
    for (int i = 0; i < n; ++i) {
      const float* row = host.data() + static_cast<size_t>(i) * LntlNets::kClasses;
      out[start + i] = static_cast<int>(std::max_element(row, row + LntlNets::kClasses) - row);
    }
  }
  return out;
}
