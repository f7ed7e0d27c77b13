#include "experiments/grayout/grayout.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops/elementwise.h"
#include "engine/ops/ewc.h"
#include "engine/ops/rng.h"
#include "models/cvae_sampling.h"

namespace {

// The real-data term must see the remembered classes only, or it would teach back what is being forgotten.
const Dataset& checked_remembered(const Dataset& d, const std::vector<int>& remember) {
  for (int label : d.labels)
    if (std::find(remember.begin(), remember.end(), label) == remember.end())
      throw std::runtime_error("gray-out: the real images include digit " + std::to_string(label) +
                               ", which is not a remembered class");
  return d;
}

}  // namespace

GrayOut::GrayOut(Backend& be, Cvae& model, Cvae& frozen, const Buffer<float>& fisher, const Dataset& remembered,
                 GrayoutConfig cfg, AdamHyper h)
    : model_(model), frozen_(frozen), fisher_(fisher), cfg_(std::move(cfg)), adam_(be, model.params(), h),
      real_(be, checked_remembered(remembered, cfg_.remember), model.config().n_class, cfg_.batch,
            be.seed ^ 0x4EA1ULL),
      squared_error_(be, static_cast<int64_t>(cfg_.batch) * model.config().x_dim),
      x_(be, static_cast<size_t>(cfg_.batch) * model.config().x_dim),
      d_x_(be, static_cast<size_t>(cfg_.batch) * model.config().x_dim),
      gray_(be, static_cast<size_t>(cfg_.batch) * model.config().x_dim),
      z_(be, static_cast<size_t>(cfg_.batch) * model.config().z_dim),
      c_(be, static_cast<size_t>(cfg_.batch) * model.config().n_class), sums_(be, 6), labels_dev_(be, cfg_.batch),
      rng_(be.seed ^ 0x6A7E0ULL) {
  if (cfg_.forget.empty() || cfg_.remember.empty()) throw std::runtime_error("forget and remember sets must both be non-empty");
  if (model.config().n_class == 0) throw std::runtime_error("gray-out needs a conditional model (labels to forget)");
  if (fisher.size() != model.params().size()) throw std::runtime_error("Fisher does not match the model");
  fill(be, gray_.data(), static_cast<int64_t>(gray_.size()), GrayoutConfig::kGray);
}

void GrayOut::draw_labels(const Backend& be, const std::vector<int>& classes) {
  draw_onehot_labels(be, rng_, classes, cfg_.batch, model_.config().n_class, labels_, labels_dev_.data(), c_.data());
}

void GrayOut::real_term(Backend& be) {
  real_.next(be);
  model_.elbo(be, real_.x(), real_.c(), cfg_.batch, 1.0f, {sums_.data(), sums_.data() + 1}, true);
}

// Decoder means of the frozen copy, as in SA's replay (no Bernoulli draw).
void GrayOut::replay_term(Backend& be) {
  draw_labels(be, cfg_.remember);
  sample_images(be, frozen_, labels_, x_.data());
  model_.elbo(be, x_.data(), c_.data(), cfg_.batch, cfg_.gamma, {sums_.data() + 2, sums_.data() + 3}, true);
}

// Only the decoder takes part: the forgotten label must draw flat gray whatever z the prior gives it.
void GrayOut::gray_term(Backend& be) {
  const CvaeConfig& k = model_.config();
  const int64_t pixels = static_cast<int64_t>(cfg_.batch) * k.x_dim;
  draw_labels(be, cfg_.forget);
  fill_normal(be, z_.data(), static_cast<int64_t>(cfg_.batch) * k.z_dim);
  model_.decode(be, z_.data(), c_.data(), cfg_.batch, x_.data());
  zero_on(be, d_x_.data(), sizeof(float) * pixels);
  squared_error_(be, x_.data(), gray_.data(), pixels, cfg_.beta, d_x_.data(), sums_.data() + 4);
  model_.decode_backward(be, z_.data(), x_.data(), d_x_.data(), cfg_.batch, nullptr);
}

void GrayOut::step(Backend& be) {
  ParamStore& p = model_.params();
  p.zero_grad(be);
  real_term(be);
  replay_term(be);
  gray_term(be);
  ewc_penalty_and_grad(be, p.values(), frozen_.params().values(), fisher_.data(), static_cast<int64_t>(p.size()),
                       cfg_.lambda, p.grads(), sums_.data() + 5);
  adam_.step(be, p);
  ++steps_since_read_;
}

GrayoutLosses GrayOut::read_and_reset(const Backend& be) {
  std::vector<float> s = sums_.download(be);
  zero_on(be, sums_.data(), s.size() * sizeof(float));
  const float steps = static_cast<float>(steps_since_read_ ? steps_since_read_ : 1);
  steps_since_read_ = 0;
  const float per_sample = steps * cfg_.batch;
  // Weighted sums are divided back by their weight, so the curves compare across gamma and beta.
  GrayoutLosses l;
  l.real = (s[0] + s[1]) / per_sample;
  l.replay = cfg_.gamma > 0 ? (s[2] + s[3]) / (per_sample * cfg_.gamma) : 0.0f;
  l.gray = cfg_.beta > 0 ? s[4] / (per_sample * cfg_.beta) : 0.0f;
  l.ewc = s[5] / steps;
  return l;
}
