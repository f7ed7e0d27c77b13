#include "experiments/mae_unlearning/mae_unlearn.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "engine/adam.h"
#include "engine/batcher.h"
#include "engine/run/best_tracker.h"
#include "engine/text.h"
#include "engine/ops/bce_logits.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/softmax_entropy.h"
#include "engine/png.h"
#include "engine/timer.h"

namespace {

constexpr int kLabelClasses = 10;  // the Batcher's one-hot width; the MAE reads the integer labels
constexpr float kGray = 0.5f;      // the featureless unlearning target (see the header)

bool contains(const std::vector<int>& digits, int d) {
  return std::find(digits.begin(), digits.end(), d) != digits.end();
}

std::string digit_text(const std::vector<int>& digits) {
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) s += (i ? "," : "") + std::to_string(digits[i]);
  return s;
}

class Study {
 public:
  Study(const Backend& be, Mae& model, const MaeStudyConfig& cfg, const Dataset& train, const Dataset& val,
        const MaeHooks& hooks)
      : be_(be), model_(model), cfg_(cfg), train_(train), val_(val), hooks_(hooks),
        learn_(filter_digits(train, other_digits(cfg.forget))), forget_(filter_digits(train, cfg.forget)),
        sums_(be, 2), gray_(be, static_cast<size_t>(cfg.batch) * Mae::kPixels) {
    if (cfg.warmup_epochs < 1)
      throw std::invalid_argument("mae: at least one warm-up epoch (the model before unlearning)");
    if (train.dim() != Mae::kPixels || val.dim() != Mae::kPixels)
      throw std::invalid_argument("mae: the images must be 28x28");
    auto too_small = [&](const Dataset& d, const std::string& what) {
      if (d.count < cfg.batch)
        throw std::invalid_argument("mae: the " + what + " has " + std::to_string(d.count) +
                                    " training images, fewer than one batch of " + std::to_string(cfg.batch) +
                                    "; use more training images or a smaller batch");
    };
    too_small(train, "training split");
    too_small(learn_, "learn set");
    too_small(forget_, "forget set (digits " + digit_text(cfg.forget) + ")");
    int val_forget = 0;
    for (int label : val.labels) val_forget += contains(cfg.forget, label);
    if (val_forget == 0 || val_forget == val.count)
      throw std::invalid_argument("mae: the validation split needs images of both the learn and the forget digits");
    AdamHyper hyper;
    hyper.lr = cfg.lr;
    ae_adam_ = Adam(be, model.ae(), hyper);
    q_adam_ = Adam(be, model.q(), hyper);
    fill(be, gray_.data(), static_cast<int64_t>(gray_.size()), kGray);
    total_steps_ = mae_total_steps(cfg, train.count, learn_.count, forget_.count);
  }

  MaeResult run() {
    int epoch = 0;
    {
      // Scoped: the whole split's device copy is only needed for the warm-up.
      Batcher all(be_, train_, kLabelClasses, cfg_.batch, cfg_.seed);
      for (int w = 0; w < cfg_.warmup_epochs; ++w)
        if (!phase(all, train_.count, ++epoch, "warmup", nullptr)) return result_;
    }
    result_.before = result_.last;
    if (hooks_.on_model) hooks_.on_model("before", model_, result_.before);

    Batcher learn(be_, learn_, kLabelClasses, cfg_.batch, cfg_.seed + 1);
    Batcher forget(be_, forget_, kLabelClasses, cfg_.batch, cfg_.seed + 2);
    for (int e = 0; e < cfg_.epochs; ++e) {
      ++epoch;
      if (!phase(learn, learn_.count, epoch, "learn", nullptr)) return result_;
      if (cfg_.unlearn && !phase(forget, forget_.count, epoch, "unlearn", &learn)) return result_;
    }
    result_.complete = true;
    return result_;
  }

 private:
  // One pass over a set (count / batch steps): learning on its batches, or, when `retain` is given,
  // unlearning them with a retain batch drawn from `retain` in every step. Returns false when stopped
  // early (no evaluation then).
  bool phase(Batcher& batcher, int count, int epoch, const char* name, Batcher* retain) {
    const int steps = count / cfg_.batch;
    const float scale = 1.0f / static_cast<float>(cfg_.batch);
    const MaeLosses sums = {sums_.data(), sums_.data() + 1};
    zero_on(be_, sums_.data(), 2 * sizeof(float));
    Timer timer;
    for (int s = 0; s < steps; ++s) {
      batcher.next(be_);
      model_.ae().zero_grad(be_);
      model_.q().zero_grad(be_);
      if (retain) {
        // The logged losses are the forgetting terms; the retain term only holds the learn digits.
        const MaeObjective forget_it{gray_.data(), nullptr, cfg_.unlearn_q_weight};
        model_.forward_backward(be_, batcher.x(), cfg_.batch, forget_it, scale, sums);
        retain->next(be_);
        const MaeObjective retain_it{retain->x(), retain->labels(), cfg_.q_weight};
        model_.forward_backward(be_, retain->x(), cfg_.batch, retain_it, scale, {});
      } else {
        const MaeObjective learn_it{batcher.x(), batcher.labels(), cfg_.q_weight};
        model_.forward_backward(be_, batcher.x(), cfg_.batch, learn_it, scale, sums);
      }
      ae_adam_.step(be_, model_.ae());
      if (!retain) q_adam_.step(be_, model_.q());  // Q, the evidence detector, only ever learns
      ++done_steps_;
      if (hooks_.on_step) hooks_.on_step(done_steps_, total_steps_, status_);
      if (hooks_.stop && hooks_.stop()) return false;
    }
    backend_sync(be_);
    MaeEval e;
    e.epoch = epoch;
    e.phase = name;
    e.steps = steps;
    e.seconds = timer.seconds();
    const std::vector<float> s = sums_.download(be_);
    e.train_recon = s[0] / static_cast<float>(steps);
    e.train_q = s[1] / static_cast<float>(steps);
    e.val = evaluate_mae(be_, model_, val_, cfg_.forget);
    // The candidate for the best checkpoint is an unlearning epoch's final state.
    const bool epoch_end = retain || (!cfg_.unlearn && e.phase == "learn");
    if (epoch_end && best_.offer(e.val.score, epoch)) {
      e.best = true;
      result_.best = e;
      result_.has_best = true;
    }
    result_.evals.push_back(e);
    result_.last = e;
    if (hooks_.on_eval) hooks_.on_eval(e);
    if (e.best && hooks_.on_model) hooks_.on_model("best", model_, e);
    char line[192];
    std::snprintf(line, sizeof line, "epoch %d %s | val BCE learn %.1f forget %.1f | Q acc forget %.2f | score %.1f",
                  epoch, name, e.val.learn_bce, e.val.forget_bce, e.val.forget_q_acc, e.val.score);
    status_ = line;
    return true;
  }

  const Backend& be_;
  Mae& model_;
  const MaeStudyConfig& cfg_;
  const Dataset &train_, &val_;
  const MaeHooks& hooks_;
  Dataset learn_, forget_;
  Adam ae_adam_, q_adam_;
  Buffer<float> sums_;  // this phase's summed batch-mean losses: recon, Q
  Buffer<float> gray_;  // batch x 784 of kGray
  MaeResult result_;
  BestTracker best_;  // lowest validation score among the unlearning epochs' ends
  int total_steps_ = 0, done_steps_ = 0;
  std::string status_ = "warm-up";
};

}  // namespace

int mae_total_steps(const MaeStudyConfig& cfg, int all, int learn, int forget) {
  const int per_epoch = learn / cfg.batch + (cfg.unlearn ? forget / cfg.batch : 0);
  return cfg.warmup_epochs * (all / cfg.batch) + cfg.epochs * per_epoch;
}

MaeResult run_mae_study(const Backend& be, Mae& model, const MaeStudyConfig& cfg, const Dataset& train,
                        const Dataset& val, const MaeHooks& hooks) {
  if (cfg.batch < 1 || cfg.epochs < 0) throw std::invalid_argument("mae: batch must be >= 1 and epochs >= 0");
  return Study(be, model, cfg, train, val, hooks).run();
}

std::vector<MaeImageScore> score_images(const Backend& be, Mae& model, const Dataset& d) {
  if (d.dim() != Mae::kPixels) throw std::invalid_argument("score_images: the MAE takes 28x28 images");
  std::vector<MaeImageScore> out(d.count);
  const int chunk = 1000;
  const size_t cap = static_cast<size_t>(std::min(chunk, std::max(d.count, 1)));
  Buffer<float> x(be, cap * Mae::kPixels), logits_dev(be, cap * Mae::kPixels), q_dev(be, cap * Mae::kClasses);
  std::vector<float> logits(cap * Mae::kPixels), q(cap * Mae::kClasses);
  const Backend host{};  // the scores are taken on the downloaded outputs with the CPU reference ops
  for (int start = 0; start < d.count; start += chunk) {
    const int rows = std::min(chunk, d.count - start);
    const float* images = d.images.data() + static_cast<size_t>(start) * Mae::kPixels;
    copy_in(be, x.data(), images, sizeof(float) * rows * Mae::kPixels);
    model.outputs(be, x.data(), rows, logits_dev.data(), q_dev.data());
    copy_out(be, logits.data(), logits_dev.data(), sizeof(float) * rows * Mae::kPixels);
    copy_out(be, q.data(), q_dev.data(), sizeof(float) * rows * Mae::kClasses);
    for (int r = 0; r < rows; ++r) {
      MaeImageScore& s = out[start + r];
      const size_t at = static_cast<size_t>(r) * Mae::kPixels;
      bce_logits(host, logits.data() + at, images + at, Mae::kPixels, 1.0f, nullptr, &s.bce);
      const float* qr = q.data() + static_cast<size_t>(r) * Mae::kClasses;
      float neg_entropy = 0.0f;
      softmax_neg_entropy(host, qr, 1, Mae::kClasses, 1.0f, nullptr, &neg_entropy);
      s.q_entropy = -neg_entropy;
      s.q_guess = static_cast<int>(std::max_element(qr, qr + Mae::kClasses) - qr);
    }
  }
  return out;
}

MaeScores evaluate_mae(const Backend& be, Mae& model, const Dataset& d, const std::vector<int>& forget) {
  const std::vector<MaeImageScore> s = score_images(be, model, d);
  double bce[2] = {0, 0}, acc[2] = {0, 0}, entropy = 0;
  int count[2] = {0, 0};
  for (int i = 0; i < d.count; ++i) {
    const int f = contains(forget, d.labels[i]);  // 0: learn, 1: forget
    bce[f] += s[i].bce;
    acc[f] += s[i].q_guess == d.labels[i];
    if (f) entropy += s[i].q_entropy;
    ++count[f];
  }
  auto mean = [](double sum, int n) { return n ? static_cast<float>(sum / n) : 0.0f; };
  MaeScores m;
  m.learn_bce = mean(bce[0], count[0]);
  m.forget_bce = mean(bce[1], count[1]);
  m.learn_q_acc = mean(acc[0], count[0]);
  m.forget_q_acc = mean(acc[1], count[1]);
  m.forget_q_entropy = mean(entropy, count[1]);
  m.score = m.learn_bce + std::max(0.0f, kGrayBce - m.forget_bce);
  return m;
}

std::vector<MaeDigitScores> per_digit_scores(const std::vector<MaeImageScore>& s, const Dataset& d) {
  std::vector<MaeDigitScores> out(Mae::kClasses);
  for (int i = 0; i < d.count; ++i) {
    MaeDigitScores& o = out[d.labels[i]];
    ++o.count;
    o.bce += s[i].bce;
    o.q_acc += s[i].q_guess == d.labels[i];
    o.q_entropy += s[i].q_entropy;
  }
  for (MaeDigitScores& o : out)
    if (o.count) {
      o.bce /= o.count;
      o.q_acc /= o.count;
      o.q_entropy /= o.count;
    }
  return out;
}

void log_mae_eval(CsvLog& csv, const MaeEval& e) {
  auto f4 = [](double v) { return CsvLog::fixed(v, 4); };
  csv.row(e.epoch, e.phase, e.steps, f4(e.train_recon), f4(e.train_q), f4(e.val.learn_bce), f4(e.val.forget_bce),
          f4(e.val.learn_q_acc), f4(e.val.forget_q_acc), f4(e.val.forget_q_entropy), f4(e.val.score), e.best ? 1 : 0,
          CsvLog::fixed(e.seconds, 2));
}

std::string mae_eval_text(const MaeEval& e) {
  char line[320];
  std::snprintf(line, sizeof line,
                "epoch %d %s: train recon %.2f q %.4f | val BCE learn %.2f forget %.2f | Q acc learn %.2f %% forget "
                "%.2f %% | forget Q entropy %.3f | score %.2f%s (%.1f s)",
                e.epoch, e.phase.c_str(), e.train_recon, e.train_q, e.val.learn_bce, e.val.forget_bce,
                100.0 * e.val.learn_q_acc, 100.0 * e.val.forget_q_acc, e.val.forget_q_entropy, e.val.score,
                e.best ? " (best)" : "", e.seconds);
  return line;
}

void write_mae_plot(const std::string& path, const MaeResult& r, const MaeStudyConfig& cfg) {
  LinePlot plot;
  plot.title = "MAE unlearning, forget " + digit_text(cfg.forget) + ": validation reconstruction BCE";
  plot.xlabel = cfg.unlearn ? "epoch (warm-up | learn, unlearn)" : "epoch (warm-up | filtered learning, no unlearning)";
  plot.ylabel = "BCE per image (nats)";
  plot.vlines = {static_cast<float>(cfg.warmup_epochs)};
  Series learn, forget, gray;
  learn.label = "learn digits";
  forget.label = "forget digits";
  gray.label = "flat gray (784 ln 2)";
  for (const MaeEval& e : r.evals) {
    // Within an unlearning epoch the learn phase ends half-way.
    const float x = static_cast<float>(e.epoch) - (cfg.unlearn && e.phase == "learn" ? 0.5f : 0.0f);
    learn.x.push_back(x);
    learn.y.push_back(e.val.learn_bce);
    forget.x.push_back(x);
    forget.y.push_back(e.val.forget_bce);
  }
  if (!learn.x.empty()) {
    gray.x = {learn.x.front(), learn.x.back()};
    gray.y = {kGrayBce, kGrayBce};
  }
  plot.series = {learn, forget, gray};
  write_line_plot(path, plot);
}

void write_mae_grid(const Backend& be, const std::vector<Mae*>& models, const Dataset& d, int per_digit,
                    const std::string& path) {
  const size_t px = Mae::kPixels;
  // The first per_digit images of each digit, digit-major; a digit with fewer leaves black cells.
  std::vector<float> originals(static_cast<size_t>(Mae::kClasses) * per_digit * px, 0.0f);
  for (int digit = 0; digit < Mae::kClasses; ++digit)
    for (int i = 0, taken = 0; i < d.count && taken < per_digit; ++i)
      if (d.labels[i] == digit) {
        std::copy(d.images.begin() + i * px, d.images.begin() + (i + 1) * px,
                  originals.begin() + (static_cast<size_t>(digit) * per_digit + taken) * px);
        ++taken;
      }
  const int n = Mae::kClasses * per_digit;
  Buffer<float> x(be, originals.size()), out(be, originals.size());
  x.upload(be, originals);
  std::vector<std::vector<float>> blocks = {originals};
  for (Mae* m : models) {
    m->reconstruct(be, x.data(), n, out.data());
    blocks.push_back(out.download(be));
  }
  // Row of digit k: originals, then each model's reconstructions of them.
  const int cols = per_digit * static_cast<int>(blocks.size());
  std::vector<float> grid;
  grid.reserve(static_cast<size_t>(Mae::kClasses) * cols * px);
  for (int digit = 0; digit < Mae::kClasses; ++digit)
    for (const std::vector<float>& b : blocks)
      grid.insert(grid.end(), b.begin() + static_cast<size_t>(digit) * per_digit * px,
                  b.begin() + static_cast<size_t>(digit + 1) * per_digit * px);
  write_image_grid(path, grid.data(), Mae::kClasses * cols, 1, Mae::kSide, Mae::kSide, cols, 2, 2);
}

std::string mae_summary_markdown(const MaeStudyConfig& cfg, const MaeResult& r,
                                 const std::vector<MaeDigitScores>& before, const std::vector<MaeDigitScores>& after,
                                 const std::string& split_name) {
  char line[320];
  std::string md;
  std::snprintf(line, sizeof line,
                "Forget digits %s; %d warm-up epochs on all digits, then %d epochs of %s; batch %d, Adam lr %g, "
                "Q weight %g (learn), %g (unlearn).\n\n",
                digit_text(cfg.forget).c_str(), cfg.warmup_epochs, cfg.epochs,
                cfg.unlearn ? "learn + unlearn" : "filtered learning only (control, no unlearning)", cfg.batch, cfg.lr,
                cfg.q_weight, cfg.unlearn_q_weight);
  md += line;
  md += "Validation (nats per image; score = learn BCE + max(0, 543.4 - forget BCE), lower is better):\n\n"
        "| model | epoch | learn BCE | forget BCE | learn Q acc | forget Q acc | forget Q entropy | score |\n"
        "|---|---|---|---|---|---|---|---|\n";
  auto val_row = [&](const char* name, const MaeEval& e) {
    std::snprintf(line, sizeof line, "| %s | %d %s | %.2f | %.2f | %.2f %% | %.2f %% | %.3f | %.2f |\n", name, e.epoch,
                  e.phase.c_str(), e.val.learn_bce, e.val.forget_bce, 100.0 * e.val.learn_q_acc,
                  100.0 * e.val.forget_q_acc, e.val.forget_q_entropy, e.val.score);
    md += line;
  };
  val_row("before (after warm-up)", r.before);
  if (r.has_best) val_row("best checkpoint (after)", r.best);
  val_row("last", r.last);

  md += "\nPer digit on the " + split_name +
        " split, before = after warm-up, after = best checkpoint (BCE in nats per image):\n\n"
        "| digit | role | images | BCE before | BCE after | change | Q acc before | Q acc after |\n"
        "|---|---|---|---|---|---|---|---|\n";
  double sums[2][2] = {{0, 0}, {0, 0}};  // [learn/forget][before/after], image-weighted
  int counts[2] = {0, 0};
  for (int digit = 0; digit < Mae::kClasses; ++digit) {
    const MaeDigitScores &b = before[digit], &a = after[digit];
    const int f = contains(cfg.forget, digit);
    sums[f][0] += static_cast<double>(b.bce) * b.count;
    sums[f][1] += static_cast<double>(a.bce) * a.count;
    counts[f] += b.count;
    std::snprintf(line, sizeof line, "| %d | %s | %d | %.2f | %.2f | %+.2f | %.2f %% | %.2f %% |\n", digit,
                  f ? "forget" : "learn", b.count, b.bce, a.bce, a.bce - b.bce, 100.0 * b.q_acc, 100.0 * a.q_acc);
    md += line;
  }
  for (int f = 0; f < 2; ++f) {
    if (!counts[f]) continue;
    const double bm = sums[f][0] / counts[f], am = sums[f][1] / counts[f];
    std::snprintf(line, sizeof line, "| %s digits | | %d | %.2f | %.2f | %+.2f | | |\n", f ? "all forget" : "all learn",
                  counts[f], bm, am, am - bm);
    md += line;
  }
  return md;
}
