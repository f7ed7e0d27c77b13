#include "experiments/grayout/decoder_attack.h"

#include <algorithm>
#include <stdexcept>
#include <tuple>

#include "engine/adam.h"
#include "engine/ops/concat.h"
#include "engine/ops/rng.h"
#include "engine/ops/softmax_xent.h"
#include "experiments/audit/audit.h"
#include "models/cvae_sampling.h"
#include "engine/squared_error.h"

namespace {

// The attacker's variables, every start's z and then every start's y, live in a ParamStore of their own, so
// the engine's Adam steps them like any weights.
class InputSearch {
 public:
  InputSearch(Backend& be, Cvae& model, Judge& judge, const float* prototypes, const AttackConfig& cfg);
  // Decodes the current inputs and returns the mean loss per start; with `update`, also carries the loss's
  // gradient back to z and y and takes one Adam step.
  float step(Backend& be, bool update);
  const float* images() const { return images_.data(); }
  // Mean softmax(y)[target] over the starts, as decoded by the latest step.
  float label_mass(const Backend& be) const;

 private:
  float loss_and_image_gradient(Backend& be);
  void label_gradient(const Backend& be);

  Cvae& model_;
  Judge& judge_;
  const float* prototypes_;
  AttackConfig cfg_;
  int z_dim_, n_class_;
  ParamStore inputs_;
  size_t z_ = 0, y_ = 0;  // offsets of z (starts x z_dim) and y (starts x n_class) in inputs_
  Adam adam_;
  SquaredError squared_error_;
  Buffer<float> c_, images_, d_images_, d_zc_, d_c_, loss_;
  Buffer<int> targets_;
};

InputSearch::InputSearch(Backend& be, Cvae& model, Judge& judge, const float* prototypes, const AttackConfig& cfg)
    : model_(model), judge_(judge), prototypes_(prototypes), cfg_(cfg), z_dim_(model.config().z_dim),
      n_class_(model.config().n_class) {
  const int k = cfg.starts;
  const size_t pixels = static_cast<size_t>(k) * model.config().x_dim;
  if (n_class_ == 0) throw std::runtime_error("attack: the model has no label input to search over");
  if (cfg.target < 0 || cfg.target >= n_class_) throw std::runtime_error("attack: target digit out of range");
  if (cfg.goal == AttackGoal::Prototype && !prototypes) throw std::runtime_error("attack: the prototype goal needs prototypes");
  if (cfg.goal == AttackGoal::Judge && model.config().x_dim != Judge::kPixels)
    throw std::runtime_error("attack: the judge reads 28x28 images");
  z_ = inputs_.reserve("z", {k, z_dim_}, 0.0f);
  y_ = inputs_.reserve("y", {k, n_class_}, 0.0f);
  inputs_.allocate(be, 0);
  adam_ = Adam(be, inputs_, AdamHyper{cfg.lr});
  squared_error_ = SquaredError(be, static_cast<int64_t>(pixels));
  c_ = Buffer<float>(be, static_cast<size_t>(k) * n_class_);
  images_ = Buffer<float>(be, pixels);
  d_images_ = Buffer<float>(be, pixels);
  d_zc_ = Buffer<float>(be, static_cast<size_t>(k) * (z_dim_ + n_class_));
  d_c_ = Buffer<float>(be, static_cast<size_t>(k) * n_class_);
  loss_ = Buffer<float>(be, 1);
  targets_ = Buffer<int>(be, k);
  targets_.upload(be, std::vector<int>(k, cfg.target));

  Backend draw = be;  // its own seed: the same starting z for every model attacked
  draw.seed = cfg.seed;
  draw.rng_counter = 0;
  fill_normal(draw, inputs_.value(z_), static_cast<int64_t>(k) * z_dim_);
  std::vector<float> y(static_cast<size_t>(k) * n_class_, 0.0f);
  if (cfg.label_start == LabelStart::Forgotten)
    for (int r = 0; r < k; ++r) y[static_cast<size_t>(r) * n_class_ + cfg.target] = AttackConfig::kOneHotLogit;
  copy_in(be, inputs_.value(y_), y.data(), y.size() * sizeof(float));
}

// The goal's summed loss over the starts, and its gradient w.r.t. the decoded images into d_images_.
float InputSearch::loss_and_image_gradient(Backend& be) {
  const int k = cfg_.starts;
  zero_on(be, loss_.data(), sizeof(float));
  if (cfg_.goal == AttackGoal::Prototype) {
    const int64_t pixels = static_cast<int64_t>(k) * model_.config().x_dim;
    zero_on(be, d_images_.data(), sizeof(float) * pixels);
    squared_error_(be, images_.data(), prototypes_, pixels, 1.0f, d_images_.data(), loss_.data());
  } else {
    judge_.input_gradient(be, images_.data(), targets_.data(), k, 1.0f, d_images_.data(), loss_.data());
  }
  return loss_.download(be)[0];
}

// Through the softmax on the host (starts x n_class floats): dy = c * (dc - sum_j c_j dc_j), row by row.
void InputSearch::label_gradient(const Backend& be) {
  slice_cols(be, d_zc_.data(), z_dim_ + n_class_, z_dim_, n_class_, cfg_.starts, d_c_.data());
  std::vector<float> c = c_.download(be), dc = d_c_.download(be), dy(c.size());
  for (int r = 0; r < cfg_.starts; ++r) {
    const size_t o = static_cast<size_t>(r) * n_class_;
    double dot = 0;
    for (int j = 0; j < n_class_; ++j) dot += static_cast<double>(c[o + j]) * dc[o + j];
    for (int j = 0; j < n_class_; ++j) dy[o + j] = static_cast<float>(c[o + j] * (dc[o + j] - dot));
  }
  copy_in(be, inputs_.grad(y_), dy.data(), dy.size() * sizeof(float));
}

float InputSearch::step(Backend& be, bool update) {
  const int k = cfg_.starts;
  softmax(be, inputs_.value(y_), k, n_class_, c_.data());
  model_.decode(be, inputs_.value(z_), c_.data(), k, images_.data());
  const float loss = loss_and_image_gradient(be) / static_cast<float>(k);
  if (!update) return loss;
  model_.decode_backward(be, inputs_.value(z_), images_.data(), d_images_.data(), k, d_zc_.data());
  slice_cols(be, d_zc_.data(), z_dim_ + n_class_, 0, z_dim_, k, inputs_.grad(z_));
  label_gradient(be);
  adam_.step(be, inputs_);
  return loss;
}

float InputSearch::label_mass(const Backend& be) const {
  std::vector<float> c = c_.download(be);
  double sum = 0;
  for (int r = 0; r < cfg_.starts; ++r) sum += c[static_cast<size_t>(r) * n_class_ + cfg_.target];
  return static_cast<float>(sum / cfg_.starts);
}

}  // namespace

AttackResult attack_decoder(Backend& be, Cvae& model, Judge& judge, const float* prototypes, const AttackConfig& cfg) {
  if (cfg.starts < 1 || cfg.steps < 0) throw std::runtime_error("attack: starts must be >= 1 and steps >= 0");
  InputSearch search(be, model, judge, prototypes, cfg);
  AttackResult r;
  for (int s = 0; s < cfg.steps; ++s) {
    const float loss = search.step(be, true);
    if (s == 0) r.loss_first = loss;
  }
  r.loss_final = search.step(be, false);  // the inputs the last update left
  if (cfg.steps == 0) r.loss_first = r.loss_final;
  r.mean_label_mass = search.label_mass(be);
  r.images.resize(static_cast<size_t>(cfg.starts) * model.config().x_dim);
  copy_out(be, r.images.data(), search.images(), r.images.size() * sizeof(float));
  std::tie(r.success_rate, r.mean_p_target) = judge_hits(be, judge, r.images, cfg.target);
  return r;
}

Buffer<float> draw_prototypes(const Backend& be, Cvae& model, int digit, int count, uint64_t seed) {
  Backend draw = be;
  draw.seed = seed;
  draw.rng_counter = 0;
  Buffer<float> images(be, static_cast<size_t>(count) * model.config().x_dim);
  sample_images(draw, model, std::vector<int>(count, digit), images.data());
  return images;
}

std::pair<float, float> judge_hits(Backend& be, Judge& judge, std::vector<float> images, int target) {
  const int n = static_cast<int>(images.size() / Judge::kPixels);
  if (n == 0) return {0.0f, 0.0f};
  quantize_8bit(images);
  Buffer<float> dev(be, images.size());
  dev.upload(be, images);
  std::vector<float> p = judge_probabilities(be, judge, dev.data(), n);
  int hits = 0;
  double mass = 0;
  for (int i = 0; i < n; ++i) {
    const float* row = p.data() + static_cast<size_t>(i) * judge.classes();
    hits += std::max_element(row, row + judge.classes()) - row == target;
    mass += row[target];
  }
  return {static_cast<float>(hits) / n, static_cast<float>(mass / n)};
}
