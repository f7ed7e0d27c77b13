#include "experiments/selective_amnesia/selective_amnesia.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/ops/ewc.h"
#include "engine/ops/rng.h"
#include "models/cvae_sampling.h"

SelectiveAmnesia::SelectiveAmnesia(Backend& be, Cvae& model, Cvae& frozen, const Buffer<float>& fisher, ForgetConfig cfg,
                                   AdamHyper h)
    : model_(model), frozen_(frozen), fisher_(fisher), cfg_(std::move(cfg)), adam_(be, model.params(), h),
      x_(be, static_cast<size_t>(cfg_.batch) * model.config().x_dim),
      z_(be, static_cast<size_t>(cfg_.batch) * model.config().z_dim),
      c_forget_(be, static_cast<size_t>(cfg_.batch) * model.config().n_class),
      c_remember_(be, static_cast<size_t>(cfg_.batch) * model.config().n_class), sums_(be, 5),
      forget_labels_(be, cfg_.batch), remember_labels_(be, cfg_.batch), labels_(cfg_.batch),
      rng_(be.seed ^ 0x5A5A5AULL) {
  if (cfg_.forget.empty() || cfg_.remember.empty()) throw std::runtime_error("forget and remember sets must both be non-empty");
  if (fisher.size() != model.params().size()) throw std::runtime_error("Fisher does not match the model");
}

void SelectiveAmnesia::step(Backend& be) {
  const int n_class = model_.config().n_class;
  draw_onehot_labels(be, rng_, cfg_.forget, cfg_.batch, n_class, labels_, forget_labels_.data(), c_forget_.data());
  draw_onehot_labels(be, rng_, cfg_.remember, cfg_.batch, n_class, labels_, remember_labels_.data(), c_remember_.data());
  graph_.run(be, 0.0, [&] { device_step(be); });
  ++steps_since_read_;
}

void SelectiveAmnesia::device_step(Backend& be) {
  const int b = cfg_.batch;
  const CvaeConfig& k = model_.config();
  ParamStore& p = model_.params();
  p.zero_grad(be);

  // Forgotten classes are pushed towards noise: uniform images are their surrogate distribution.
  fill_uniform(be, x_.data(), static_cast<int64_t>(b) * k.x_dim);
  model_.elbo(be, x_.data(), c_forget_.data(), b, 1.0f, {sums_.data(), sums_.data() + 1}, true);

  // Remembered classes are replayed from the frozen original (decoder means, as in the official code;
  // the draws of sample_images, without its label upload).
  fill_normal(be, z_.data(), static_cast<int64_t>(b) * k.z_dim);
  frozen_.decode(be, z_.data(), c_remember_.data(), b, x_.data());
  model_.elbo(be, x_.data(), c_remember_.data(), b, cfg_.gamma, {sums_.data() + 2, sums_.data() + 3}, true);

  ewc_penalty_and_grad(be, p.values(), frozen_.params().values(), fisher_.data(), static_cast<int64_t>(p.size()),
                       cfg_.lambda, p.grads(), sums_.data() + 4);
  adam_.step(be, p);
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

std::vector<float> distance_to_gray(const Backend& be, Cvae& model, const std::vector<int>& digits, int probes,
                                    uint64_t seed) {
  Backend draw = be;  // the same z draws at every check
  draw.seed = seed;
  draw.rng_counter = 0;
  std::vector<int> labels;
  for (int d : digits) labels.insert(labels.end(), probes, d);
  const std::vector<float> x = sample_images_host(draw, model, labels);
  const size_t per_digit = static_cast<size_t>(probes) * model.config().x_dim;
  std::vector<float> out;
  for (size_t k = 0; k < digits.size(); ++k) {
    double sq = 0;
    for (size_t i = k * per_digit; i < (k + 1) * per_digit; ++i) sq += (x[i] - 0.5) * (x[i] - 0.5);
    out.push_back(static_cast<float>(std::sqrt(sq / per_digit)));
  }
  return out;
}

GrayConvergence::GrayConvergence(StopRule rule, std::vector<int> forget) : rule_(rule), forget_(std::move(forget)) {
  if (rule_.check_every < 1 || rule_.probes < 1 || rule_.patience < 1 || rule_.max_steps < rule_.min_steps)
    throw std::runtime_error("stop rule: check_every, probes and patience must be >= 1 and max_steps >= min_steps");
}

bool GrayConvergence::done(const Backend& be, Cvae& model, int step) {
  measured_now_ = step % rule_.check_every == 0;
  if (measured_now_) {
    distances_ = distance_to_gray(be, model, forget_, rule_.probes, kProbeSeed);
    const bool under = std::all_of(distances_.begin(), distances_.end(), [&](float d) { return d <= rule_.tolerance; });
    streak_ = under ? streak_ + 1 : 0;
  }
  return step >= rule_.max_steps || (step >= rule_.min_steps && converged());
}
