// Gray-out forgetting and the decoder attacks: the two new backward passes (decoder from an image-space
// gradient, judge to its input image) against finite differences, the gray-out loop on a tiny model, and
// both attacks lowering their loss.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/cli.h"
#include "models/cvae_fisher.h"
#include "experiments/grayout/attack_study.h"
#include "experiments/grayout/decoder_attack.h"
#include "experiments/grayout/grayout.h"
#include "models/judge.h"
#include "tests/blob_digits.h"
#include "tests/gradcheck.h"
#include "tests/tiny_cvae.h"

namespace {

// Decodes (z, c) and returns sum_i w_i image_i, the loss whose image gradient is w.
double weighted_decode(const Backend& be, Cvae& model, const std::vector<float>& z, const std::vector<float>& c, int rows,
                       const std::vector<float>& w) {
  std::vector<float> images(w.size());
  model.decode(be, z.data(), c.empty() ? nullptr : c.data(), rows, images.data());
  return weighted_sum(images, w);
}

// Decoder means of `draws` samples of one class, on the same z draw every call.
std::vector<float> class_images(Backend& be, Cvae& model, int cls, int draws) {
  Backend fixed = be;
  fixed.rng_counter = 0;
  return sample_images_host(fixed, model, std::vector<int>(draws, cls));
}

double mean_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += std::fabs(a[i] - b[i]);
  return s / a.size();
}

double mean_abs_from(const std::vector<float>& a, float value) {
  return mean_abs_diff(a, std::vector<float>(a.size(), value));
}

}  // namespace

TEST_CASE("decode_backward matches finite differences for z, the label and the weights") {
  for (bool conditional : {true, false}) {
    CAPTURE(conditional);
    Backend be = make_backend("cpu", 2);
    CvaeConfig cfg = tiny_cvae_config();
    if (!conditional) cfg.n_class = 0;
    Cvae model(be, cfg, 6);
    std::mt19937 rng(11);
    const int rows = 3, in = cfg.z_dim + cfg.n_class;
    std::vector<float> z = random_vector(rows * cfg.z_dim, rng, -1.5f, 1.5f);
    std::vector<float> c = random_vector(rows * cfg.n_class, rng, 0.1f, 1.0f);  // a soft label, as attacks feed
    std::vector<float> w = random_vector(rows * cfg.x_dim, rng);
    auto loss = [&] { return weighted_decode(be, model, z, c, rows, w); };

    std::vector<float> images(rows * cfg.x_dim), d_zc(rows * in);
    model.params().zero_grad(be);
    model.decode(be, z.data(), conditional ? c.data() : nullptr, rows, images.data());
    model.decode_backward(be, z.data(), images.data(), w.data(), rows, d_zc.data());
    std::vector<float> d_params(model.params().grads(), model.params().grads() + model.params().size());

    std::vector<float> d_z(z.size()), d_c(c.size());
    for (int r = 0; r < rows; ++r) {
      for (int j = 0; j < cfg.z_dim; ++j) d_z[r * cfg.z_dim + j] = d_zc[r * in + j];
      for (int j = 0; j < cfg.n_class; ++j) d_c[r * cfg.n_class + j] = d_zc[r * in + cfg.z_dim + j];
    }
    check_gradient(loss, z.data(), d_z.data(), z.size(), 40, 1e-3f);
    if (conditional) check_gradient(loss, c.data(), d_c.data(), c.size(), 40, 1e-3f);
    check_gradient(loss, model.params().values(), d_params.data(), model.params().size(), 60, 1e-3f);
  }
}

TEST_CASE("judge input_gradient matches finite differences (evaluation mode)") {
  Backend be = make_backend("cpu", 3);
  Judge judge(be, 4);
  std::mt19937 rng(9);
  // A few training steps move the running statistics off their initial 0 / 1, so the evaluation batch norm
  // is a real per-channel affine map.
  {
    std::vector<float> warm = random_vector(16 * 784, rng, 0.0f, 1.0f);
    std::vector<int> warm_labels(16);
    for (int i = 0; i < 16; ++i) warm_labels[i] = i % 10;
    for (int s = 0; s < 5; ++s) judge.train_step(be, warm.data(), warm_labels.data(), 16, 1e-3f, nullptr);
  }
  const int rows = 2;
  std::vector<float> x = random_vector(rows * 784, rng, 0.0f, 1.0f), dx(x.size());
  std::vector<int> labels = {3, 7};
  float loss_value = 0.0f;
  judge.input_gradient(be, x.data(), labels.data(), rows, 1.0f, dx.data(), &loss_value);

  std::vector<float> logits(rows * 10);
  auto loss = [&] {  // the same cross-entropy from the evaluation logits, in double
    judge.logits(be, x.data(), rows, logits.data());
    double sum = 0;
    for (int r = 0; r < rows; ++r) {
      double mx = logits[r * 10], z = 0;
      for (int j = 0; j < 10; ++j) mx = std::max(mx, static_cast<double>(logits[r * 10 + j]));
      for (int j = 0; j < 10; ++j) z += std::exp(logits[r * 10 + j] - mx);
      sum += mx + std::log(z) - logits[r * 10 + labels[r]];
    }
    return sum;
  };
  CHECK(loss() == doctest::Approx(loss_value).epsilon(1e-5));

  // Pixel gradients are small (~1e-3), so the tolerance is relative to the largest one; max-pool and ReLU
  // kinks may catch a step or two, hence most (not all) sampled pixels must agree.
  double largest = 0;
  for (float g : dx) largest = std::max(largest, static_cast<double>(std::fabs(g)));
  REQUIRE(largest > 0);
  std::uniform_int_distribution<size_t> pick(0, x.size() - 1);
  const int samples = 60;
  int agree = 0;
  for (int s = 0; s < samples; ++s) {
    const size_t i = pick(rng);
    const float keep = x[i];
    x[i] = keep + 1e-2f;
    const double up = loss();
    x[i] = keep - 1e-2f;
    const double down = loss();
    x[i] = keep;
    const double numeric = (up - down) / 2e-2;
    agree += std::fabs(numeric - dx[i]) <= 0.03 * largest + 0.03 * std::fabs(numeric);
  }
  CHECK(agree >= samples - 3);
}

TEST_CASE("gray-out turns the forgotten class to flat gray and keeps a remembered one") {
  Backend be = make_backend("cpu", 8);
  CvaeConfig cfg = tiny_cvae_config();
  Dataset d = striped_dataset(cfg, 96);
  Cvae model(be, cfg, 8), frozen(be, cfg, 8);
  train_tiny_cvae(be, model, d, 600, 3e-3f);
  frozen.params().copy_from(be, model.params());

  const std::vector<float> forgotten_before = class_images(be, model, 2, 50);
  const std::vector<float> kept_before = class_images(be, model, 0, 50);
  REQUIRE(mean_abs_from(forgotten_before, 0.5f) > 0.3);  // the trained model draws class 2's stripe

  Dataset remembered = filter_digits(d, {0, 1});
  Buffer<float> fisher = cvae_fisher_on_data(be, model, remembered, remembered.count, 32);
  GrayoutConfig gc;
  gc.forget = {2};
  gc.remember = {0, 1};
  gc.batch = 16;
  gc.lambda = 1.0f;
  AdamHyper h;
  h.lr = 3e-3f;
  GrayOut gray(be, model, frozen, fisher, remembered, gc, h);
  for (int s = 0; s < 20; ++s) gray.step(be);
  GrayoutLosses first = gray.read_and_reset(be);
  for (int s = 0; s < 380; ++s) gray.step(be);
  GrayoutLosses last = gray.read_and_reset(be);
  INFO("gray loss " << first.gray << " -> " << last.gray << ", ewc " << last.ewc);
  CHECK(last.gray < 0.2f * first.gray);
  CHECK(last.ewc > 0.0f);

  const std::vector<float> forgotten_after = class_images(be, model, 2, 50);
  const std::vector<float> kept_after = class_images(be, model, 0, 50);
  INFO("forgotten |x - 0.5| " << mean_abs_from(forgotten_after, 0.5f) << ", kept change "
                              << mean_abs_diff(kept_before, kept_after));
  CHECK(mean_abs_from(forgotten_after, 0.5f) < 0.05);
  CHECK(mean_abs_diff(kept_before, kept_after) < 0.1);
  CHECK(own_third_contrast(be, model, 0) > 0.5);
  CHECK(own_third_contrast(be, model, 1) > 0.5);

  // The real-data term must never see a forgotten class.
  CHECK_THROWS_AS(GrayOut(be, model, frozen, fisher, d, gc, h), std::runtime_error);
}

TEST_CASE("both decoder attacks lower their loss on a tiny model") {
  // A small CVAE and the judge, both trained briefly on synthetic 28x28 digits (a square per class), so the
  // decoder's output and the judge's verdict both depend on the inputs being searched.
  Backend be = make_backend("cpu", 5);
  Dataset d = blob_dataset(300, 1);
  CvaeConfig cfg;
  cfg.h1 = 32; cfg.h2 = 16; cfg.z_dim = 2;
  Cvae model(be, cfg, 1);
  train_tiny_cvae(be, model, d, 300, 3e-3f);
  Judge judge(be, 3);
  {
    Batcher batcher(be, d, 10, 32, 4);
    for (int s = 0; s < 60; ++s) {
      batcher.next(be);
      judge.train_step(be, batcher.x(), batcher.labels(), batcher.batch(), 2e-3f, nullptr);
    }
  }
  AttackConfig ac;
  ac.target = 4;
  ac.starts = 6;
  ac.steps = 40;
  ac.lr = 0.1f;
  Buffer<float> prototypes = draw_prototypes(be, model, ac.target, ac.starts, 17);
  for (LabelStart start : {LabelStart::Forgotten, LabelStart::Uniform}) {
    ac.label_start = start;
    for (AttackGoal goal : {AttackGoal::Prototype, AttackGoal::Judge}) {
      ac.goal = goal;
      AttackResult r = attack_decoder(be, model, judge, prototypes.data(), ac);
      INFO("goal " << goal_name(goal) << ", start " << label_start_name(start) << ": loss " << r.loss_first << " -> "
                   << r.loss_final << ", success " << r.success_rate << ", label mass " << r.mean_label_mass);
      CHECK(r.loss_final < 0.7f * r.loss_first);
      CHECK(r.images.size() == static_cast<size_t>(ac.starts) * cfg.x_dim);
      CHECK(r.success_rate >= 0.0f);
      CHECK(r.success_rate <= 1.0f);
    }
  }
  // An unconditional decoder has no label to attack.
  Cvae vae(be, vae_config(), 1);
  CHECK_THROWS_AS(attack_decoder(be, vae, judge, prototypes.data(), ac), std::runtime_error);
}

TEST_CASE("judge_hits counts argmax hits and averages the target's probability") {
  Backend be = make_backend("cpu", 1);
  Judge judge(be, 7);
  std::vector<float> images(3 * 784, 128.0f / 255.0f);  // already on an 8-bit level, so rounding keeps it
  std::vector<float> p = judge_probabilities(be, judge, images.data(), 1);
  const int top = static_cast<int>(std::max_element(p.begin(), p.begin() + 10) - p.begin());
  auto [hits, mass] = judge_hits(be, judge, images, top);
  CHECK(hits == doctest::Approx(1.0));
  CHECK(mass == doctest::Approx(p[top]).epsilon(1e-4));
  auto [misses, other_mass] = judge_hits(be, judge, images, (top + 1) % 10);
  CHECK(misses == doctest::Approx(0.0));
  CHECK(other_mass == doctest::Approx(p[(top + 1) % 10]).epsilon(1e-4));
}

TEST_CASE("other_digits lists the remembered digits of a forget list") {
  CHECK(other_digits({9}) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(other_digits({9, 2}) == std::vector<int>{0, 1, 3, 4, 5, 6, 7, 8});
  CHECK(other_digits({}, 3) == std::vector<int>{0, 1, 2});
}
