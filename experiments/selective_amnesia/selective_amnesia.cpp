#include "experiments/selective_amnesia/selective_amnesia.h"

#include <stdexcept>

#include "engine/ops/ewc.h"
#include "engine/ops/rng.h"
#include "models/cvae_sampling.h"

SelectiveAmnesia::SelectiveAmnesia(Backend& be, Cvae& model, Cvae& frozen, const Buffer<float>& fisher, ForgetConfig cfg,
                                   AdamHyper h)
    : model_(model), frozen_(frozen), fisher_(fisher), cfg_(std::move(cfg)), adam_(be, model.params(), h),
      x_(be, static_cast<size_t>(cfg_.batch) * model.config().x_dim),
      c_(be, static_cast<size_t>(cfg_.batch) * model.config().n_class), sums_(be, 5), labels_dev_(be, cfg_.batch),
      labels_(cfg_.batch), rng_(be.seed ^ 0x5A5A5AULL) {
  if (cfg_.forget.empty() || cfg_.remember.empty()) throw std::runtime_error("forget and remember sets must both be non-empty");
  if (fisher.size() != model.params().size()) throw std::runtime_error("Fisher does not match the model");
}

void SelectiveAmnesia::draw_labels(const Backend& be, const std::vector<int>& classes) {
  draw_onehot_labels(be, rng_, classes, cfg_.batch, model_.config().n_class, labels_, labels_dev_.data(), c_.data());
}

void SelectiveAmnesia::step(Backend& be) {
  const int b = cfg_.batch;
  const int64_t pixels = static_cast<int64_t>(b) * model_.config().x_dim;
  ParamStore& p = model_.params();
  p.zero_grad(be);

  // Forgotten classes are pushed towards noise: uniform images are their surrogate distribution.
  draw_labels(be, cfg_.forget);
  fill_uniform(be, x_.data(), pixels);
  model_.elbo(be, x_.data(), c_.data(), b, 1.0f, {sums_.data(), sums_.data() + 1}, true);

  // Remembered classes are replayed from the frozen original (decoder means, as in the official code).
  draw_labels(be, cfg_.remember);
  sample_images(be, frozen_, labels_, x_.data());
  model_.elbo(be, x_.data(), c_.data(), b, cfg_.gamma, {sums_.data() + 2, sums_.data() + 3}, true);

  ewc_penalty_and_grad(be, p.values(), frozen_.params().values(), fisher_.data(), static_cast<int64_t>(p.size()),
                       cfg_.lambda, p.grads(), sums_.data() + 4);
  adam_.step(be, p);
  ++steps_since_read_;
}

ForgetLosses SelectiveAmnesia::read_and_reset(const Backend& be) {
  std::vector<float> s = sums_.download(be);
  zero_on(be, sums_.data(), s.size() * sizeof(float));
  float steps = static_cast<float>(steps_since_read_ ? steps_since_read_ : 1);
  steps_since_read_ = 0;
  float per_sample = steps * cfg_.batch;
  float replay = cfg_.gamma > 0 ? (s[2] + s[3]) / (per_sample * cfg_.gamma) : 0.0f;  // unscaled, comparable across gamma
  return {(s[0] + s[1]) / per_sample, replay, s[4] / steps};
}
