// The MAE and its evidence-unlearning study on the CPU: the whole loss gradient (both objectives) against
// finite differences of a double-precision loss, a tiny synthetic learn/unlearn run where the forget digit's
// reconstruction error rises while the learn digits' stays low, the study's files, and checkpoints.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "engine/cli.h"
#include "models/judge.h"
#include "models/mae.h"
#include "experiments/mae_unlearning/mae_unlearn.h"
#include "tests/blob_digits.h"
#include "tests/gradcheck.h"
#include "tests/temp_dir.h"

namespace {

// The objective of models/mae.h written out in double from the model's outputs.
struct HostLoss {
  double recon = 0, q = 0;
};
HostLoss host_loss(Mae& m, const Backend& be, const std::vector<float>& x, const std::vector<float>& target,
                   const std::vector<int>* labels, int rows) {
  std::vector<float> logits(static_cast<size_t>(rows) * Mae::kPixels), q(static_cast<size_t>(rows) * Mae::kClasses);
  m.outputs(be, x.data(), rows, logits.data(), q.data());  // CPU: host pointers are device pointers
  HostLoss out;
  for (size_t i = 0; i < logits.size(); ++i) {
    const double l = logits[i], t = target[i];
    out.recon += std::max(l, 0.0) - l * t + std::log1p(std::exp(-std::fabs(l)));
  }
  for (int r = 0; r < rows; ++r) {
    const float* row = q.data() + static_cast<size_t>(r) * Mae::kClasses;
    double mx = *std::max_element(row, row + Mae::kClasses), z = 0;
    for (int j = 0; j < Mae::kClasses; ++j) z += std::exp(row[j] - mx);
    const double log_z = mx + std::log(z);
    if (labels) {
      out.q += log_z - row[(*labels)[r]];
    } else {
      for (int j = 0; j < Mae::kClasses; ++j) out.q += std::exp(row[j] - log_z) * (row[j] - log_z);
    }
  }
  return out;
}

// check_gradient for a loss with ReLU kinks: a step that crosses a kink bends the difference on that side
// only, and the MAE has thousands of ReLUs (a bias moves hundreds of them at once), so a step of 1e-4 still
// meets one now and then. A sampled entry passes when its analytic gradient matches the central difference
// or one of the two one-sided ones; one entry per tensor may miss all three (two kinks straddling it).
// A wrong backward is wrong for a whole tensor, not for one entry.
void check_gradient_kinked(const std::function<double()>& loss, float* x, const float* analytic, size_t n, int samples,
                           float h, double tol) {
  std::mt19937 rng(123);
  std::uniform_int_distribution<size_t> pick(0, n - 1);
  int misses = 0;
  std::ostringstream log;
  for (int s = 0; s < samples && s < static_cast<int>(n); ++s) {
    const size_t i = samples >= static_cast<int>(n) ? static_cast<size_t>(s) : pick(rng);
    const float keep = x[i];
    const double mid = loss();
    x[i] = keep + h;
    const double up = loss();
    x[i] = keep - h;
    const double down = loss();
    x[i] = keep;
    const double central = (up - down) / (2.0 * h), right = (up - mid) / h, left = (mid - down) / h;
    auto agrees = [&](double numeric) { return std::fabs(numeric - analytic[i]) <= tol * (1.0 + std::fabs(numeric)); };
    if (agrees(central) || agrees(left) || agrees(right)) continue;
    ++misses;
    log << "index " << i << " analytic " << analytic[i] << " central " << central << " left " << left << " right "
        << right << "; ";
  }
  CHECK_MESSAGE(misses <= 1, log.str());
}

// A small study on the synthetic blob digits (class k = a bright square at its own spot).
struct TinyStudy {
  Dataset train = blob_dataset(600, 11), val = blob_dataset(200, 12);
  MaeStudyConfig cfg;
  TinyStudy() {
    cfg.forget = {3};
    cfg.batch = 20;
    cfg.warmup_epochs = 3;
    cfg.epochs = 3;
    cfg.lr = 3e-3f;
  }
};

}  // namespace

TEST_CASE("MAE: whole loss gradient (learn and unlearn objectives) matches finite differences") {
  Backend be = make_backend("cpu", 5);
  const int rows = 2;
  Mae m(be, 4, 6);
  std::mt19937 rng(7);
  const std::vector<float> x = random_vector(static_cast<size_t>(rows) * Mae::kPixels, rng, 0.0f, 1.0f);
  const std::vector<float> gray(x.size(), 0.5f);
  const std::vector<int> labels = {3, 8};

  for (bool learn : {true, false}) {
    CAPTURE(learn);
    const std::vector<float>& target = learn ? x : gray;
    const std::vector<int>* lab = learn ? &labels : nullptr;
    const float q_weight = learn ? 1.5f : 0.7f;
    const MaeObjective obj{target.data(), learn ? labels.data() : nullptr, q_weight};
    auto loss = [&] {
      const HostLoss h = host_loss(m, be, x, target, lab, rows);
      return h.recon + q_weight * h.q;
    };
    m.ae().zero_grad(be);
    m.q().zero_grad(be);
    float recon = 0.0f, q = 0.0f;
    m.forward_backward(be, x.data(), rows, obj, 1.0f, {&recon, &q});
    // The reported losses are the unweighted sums.
    const HostLoss want = host_loss(m, be, x, target, lab, rows);
    CHECK(recon == doctest::Approx(want.recon).epsilon(1e-5));
    CHECK(q == doctest::Approx(want.q).epsilon(1e-4));
    // Every tensor of both stores is checked: indices are sampled inside each parameter.
    for (ParamStore* p : {&m.ae(), &m.q()}) {
      const std::vector<float> analytic(p->grads(), p->grads() + p->size());
      for (const ParamEntry& e : p->entries()) {
        CAPTURE(e.name);
        check_gradient_kinked(loss, p->values() + e.offset, analytic.data() + e.offset, e.size, 8, 1e-4f, 2e-2);
      }
    }
  }
}

TEST_CASE("MAE: q_weight 0 leaves Q untouched and the scale multiplies every gradient") {
  Backend be = make_backend("cpu", 5);
  Mae m(be, 4, 6);
  std::mt19937 rng(8);
  const std::vector<float> x = random_vector(3 * Mae::kPixels, rng, 0.0f, 1.0f);
  const std::vector<int> labels = {0, 1, 2};
  m.ae().zero_grad(be);
  m.q().zero_grad(be);
  float q_loss = 0.0f;
  m.forward_backward(be, x.data(), 3, {x.data(), labels.data(), 0.0f}, 1.0f, {nullptr, &q_loss});
  CHECK(q_loss > 0.0f);  // still reported
  for (size_t i = 0; i < m.q().size(); ++i) REQUIRE(m.q().grads()[i] == 0.0f);
  const std::vector<float> once(m.ae().grads(), m.ae().grads() + m.ae().size());
  m.ae().zero_grad(be);
  m.forward_backward(be, x.data(), 3, {x.data(), labels.data(), 0.0f}, 0.25f, {});
  for (size_t i = 0; i < once.size(); i += 97)
    CHECK(m.ae().grads()[i] == doctest::Approx(0.25f * once[i]).epsilon(1e-4));
}

TEST_CASE("MAE study: unlearning raises the forget digit's reconstruction error, the learn digits' stays low") {
  Backend be = make_backend("cpu", 1);
  TinyStudy t;
  Mae model(be, 8, 2);
  int before_calls = 0, best_calls = 0;
  MaeHooks hooks;
  hooks.on_model = [&](const std::string& stage, const Mae&, const MaeEval&) {
    (stage == "before" ? before_calls : best_calls) += 1;
  };
  const MaeResult r = run_mae_study(be, model, t.cfg, t.train, t.val, hooks);
  REQUIRE(r.complete);
  REQUIRE(r.has_best);
  CHECK(before_calls == 1);
  CHECK(best_calls >= 1);
  // 3 warm-up evaluations, then learn + unlearn for each of 3 epochs.
  REQUIRE(r.evals.size() == 9);
  CHECK(r.evals[3].phase == "learn");
  CHECK(r.evals[4].phase == "unlearn");
  CHECK(r.before.epoch == 3);
  CHECK(r.best.phase == "unlearn");
  const MaeScores &b = r.before.val, &a = r.best.val;
  INFO("before: learn " << b.learn_bce << " forget " << b.forget_bce << " Q forget acc " << b.forget_q_acc
                        << " entropy " << b.forget_q_entropy);
  INFO("best:   learn " << a.learn_bce << " forget " << a.forget_bce << " Q forget acc " << a.forget_q_acc
                        << " entropy " << a.forget_q_entropy);
  // Before unlearning the forget digit is reconstructed about as well as the rest.
  CHECK(b.forget_bce < 1.2f * b.learn_bce);
  // After: most of the way to flat gray on the forget digit, no worse on the others, and Q unsure.
  CHECK(a.forget_bce - b.forget_bce > 0.5f * (kGrayBce - b.forget_bce));
  CHECK(a.learn_bce < 1.05f * b.learn_bce);
  CHECK(a.forget_q_entropy > b.forget_q_entropy + 0.5f);
  CHECK(a.learn_q_acc > 0.9f);
  CHECK(a.score < r.before.val.score);
}

TEST_CASE("MAE study: bad sets are refused, CSV, plot, grid and summary are written") {
  Backend be = make_backend("cpu", 1);
  TinyStudy t;
  Mae model(be, 8, 2);
  // 600 images hold 60 of digit 3: a batch of 64 does not fit the forget set.
  MaeStudyConfig big = t.cfg;
  big.batch = 64;
  CHECK_THROWS_WITH_AS(run_mae_study(be, model, big, t.train, t.val, {}), doctest::Contains("forget set"),
                       std::invalid_argument);
  const Dataset no_forget = filter_digits(t.val, other_digits({3}));
  CHECK_THROWS_WITH_AS(run_mae_study(be, model, t.cfg, t.train, no_forget, {}), doctest::Contains("validation"),
                       std::invalid_argument);

  TempDir dir("mae_files");
  MaeStudyConfig c = t.cfg;
  c.warmup_epochs = 1;
  c.epochs = 1;
  CsvLog csv(dir / "metrics.csv", kMaeCsvHeader);
  MaeHooks hooks;
  int64_t steps_seen = 0;
  hooks.on_eval = [&](const MaeEval& e) { log_mae_eval(csv, e); };
  hooks.on_step = [&](int64_t done, int64_t total, const std::string&) {
    steps_seen = done;
    CHECK(total == mae_total_steps(c, 600, 540, 60));
  };
  const MaeResult r = run_mae_study(be, model, c, t.train, t.val, hooks);
  CHECK(steps_seen == 30 + 27 + 3);
  write_mae_plot(dir / "curves.png", r, c);
  Mae other(be, 8, 3);
  write_mae_grid(be, {&model, &other}, t.val, 2, dir / "grid.png");
  const std::vector<MaeDigitScores> digits = per_digit_scores(score_images(be, model, t.val), t.val);
  CHECK(digits[3].count == 20);
  const std::string md = mae_summary_markdown(c, r, digits, digits, "val");
  CHECK(md.find("| 3 | forget | 20 |") != std::string::npos);
  CHECK(md.find("| 4 | learn | 20 |") != std::string::npos);

  std::ifstream in(dir / "metrics.csv");
  std::string header, line;
  std::getline(in, header);
  CHECK(header == kMaeCsvHeader);
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 3);  // warmup, learn, unlearn
  CHECK(std::filesystem::file_size(dir / "curves.png") > 1000);
  CHECK(std::filesystem::file_size(dir / "grid.png") > 1000);

  // The control never unlearns: its best checkpoint is an epoch's learn phase.
  MaeStudyConfig control = c;
  control.unlearn = false;
  const MaeResult rc = run_mae_study(be, model, control, t.train, t.val, {});
  REQUIRE(rc.evals.size() == 2);
  CHECK(rc.best.phase == "learn");
}

TEST_CASE("MAE checkpoint: round trip is bit-identical; other models and code sizes are refused") {
  Backend be = make_backend("cpu", 1);
  TempDir dir("mae_ckpt");
  Mae a(be, 6, 21), b(be, 6, 22), wrong_code(be, 5, 21);
  std::mt19937 rng(9);
  const std::vector<float> x = random_vector(3 * Mae::kPixels, rng, 0.0f, 1.0f);
  a.save(be, dir / "a.safetensors", {{"forget", "3"}});
  b.load(be, dir / "a.safetensors");
  std::vector<float> la(3 * Mae::kPixels), lb(la.size()), qa(30), qb(30);
  a.outputs(be, x.data(), 3, la.data(), qa.data());
  b.outputs(be, x.data(), 3, lb.data(), qb.data());
  CHECK(la == lb);
  CHECK(qa == qb);
  CHECK(a.ae().fingerprint(be) == b.ae().fingerprint(be));
  CHECK(a.q().fingerprint(be) == b.q().fingerprint(be));

  CHECK_THROWS_WITH_AS(wrong_code.load(be, dir / "a.safetensors"), contains("code size 6"), std::runtime_error);
  Judge judge(be, 1);
  judge.save(be, dir / "judge.safetensors");
  CHECK_THROWS_WITH_AS(b.load(be, dir / "judge.safetensors"), contains("not an MAE"), std::runtime_error);
}
