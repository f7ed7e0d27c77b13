#include "experiments/audit/judge_training.h"

#include <cstdio>
#include <map>
#include <memory>

#include "engine/batcher.h"
#include "engine/run/csv_log.h"
#include "engine/run/lr_schedule.h"
#include "engine/run/step_loop.h"
#include "engine/timer.h"
#include "experiments/audit/no_digit.h"
#include "models/judge.h"

namespace {

// The held-out featureless images come from a generator seeded apart from every training seed.
constexpr uint64_t kHeldOutSeed = 0x4E0D161700ULL;

// The training batches: real digits only, or (11-way) real digits, weakened digits and featureless images.
class JudgeBatches {
 public:
  JudgeBatches(const Backend& be, const Dataset& train, const JudgeRecipe& r, uint64_t seed) {
    if (r.no_digit_class) with_no_digit_ = std::make_unique<NoDigitBatcher>(be, train, r.batch, seed);
    else digits_ = std::make_unique<Batcher>(be, train, Judge::kDigits, r.batch, seed);
  }
  void next(const Backend& be) { digits_ ? digits_->next(be) : with_no_digit_->next(be); }
  const float* x() const { return digits_ ? digits_->x() : with_no_digit_->x(); }
  const int* labels() const { return digits_ ? digits_->labels() : with_no_digit_->labels(); }

 private:
  std::unique_ptr<Batcher> digits_;
  std::unique_ptr<NoDigitBatcher> with_no_digit_;
};

}  // namespace

int train_judge(const JudgeRecipe& r, Driver& d) {
  Backend be = d.backend();
  const std::string& data = d.flags().data;
  const int64_t seed = d.flags().seed;
  Dataset train_set = load_mnist_split(data, true);
  Dataset test_set = load_mnist_split(data, false);
  if (train_set.dim() != Judge::kPixels) throw std::runtime_error(data + ": the judge needs 28x28 images");
  const int steps_per_epoch = train_set.count / r.batch;  // the Batcher drops each epoch's ragged tail
  const int classes = r.no_digit_class ? Judge::kDigits + 1 : Judge::kDigits;
  std::printf("sa_judge: %d classes, %d epochs x %d steps, batch %d, Adam lr %g (x%g every %d epochs), seed %lld on %s\n",
              classes, r.epochs, steps_per_epoch, r.batch, r.lr, r.lr_gamma, r.lr_step, static_cast<long long>(seed),
              be.name());

  Judge judge(be, d.seed(), classes);
  judge.set_dropout(r.dropout >= 0 ? r.dropout : r.no_digit_class ? 0.2f : Judge::kDropout);
  std::printf("dropout %g in training\n", judge.dropout());
  JudgeBatches batches(be, train_set, r, d.seed());
  const StepDecay schedule(r.lr, r.lr_step, r.lr_step, r.lr_gamma);
  auto epoch_of = [&](int64_t step) { return static_cast<int>((step - 1) / steps_per_epoch) + 1; };

  Buffer<float> loss(be, 1);  // sum of the batch-mean losses since the last read
  double epoch_loss = 0, window_loss = 0, test_acc = 0;
  int64_t reported = 0;
  auto read_loss = [&] {  // a device sync: only at reports and epoch ends
    float sum = 0.0f;
    copy_out(be, &sum, loss.data(), sizeof sum);
    zero_on(be, loss.data(), sizeof(float));
    epoch_loss += sum;
    window_loss += sum;
  };
  const std::string ckpt = d.out_path("judge.safetensors");
  auto save = [&](int epochs_done, bool partial) {
    std::map<std::string, std::string> meta = {
        {"epochs", std::to_string(epochs_done)}, {"seed", std::to_string(seed)}, {"lr", std::to_string(r.lr)},
        {"lr_step", std::to_string(r.lr_step)},   {"lr_gamma", std::to_string(r.lr_gamma)},
        {"batch", std::to_string(r.batch)},       {"test_accuracy", std::to_string(test_acc)},
        {"dropout", std::to_string(judge.dropout())}};
    if (partial) meta["interrupted"] = "1";
    judge.save(be, ckpt, meta);
  };
  CsvLog csv(d.out_path("judge.csv"), "epoch,lr,train_loss,test_accuracy,seconds");
  Timer epoch_timer;

  StepLoop loop;
  loop.label = "sa_judge";
  loop.steps = static_cast<int64_t>(r.epochs) * steps_per_epoch;
  loop.log_every = 50;                // each report reads the loss back: a device sync
  loop.ckpt_every = steps_per_epoch;  // the epoch's end: evaluate, log, checkpoint
  loop.step = [&](int64_t step) {
    batches.next(be);
    judge.train_step(be, batches.x(), batches.labels(), r.batch, schedule.at(epoch_of(step)), loss.data());
  };
  loop.report = [&](int64_t step) {
    read_loss();
    char text[96];
    const double mean = window_loss / static_cast<double>(step - reported);
    std::snprintf(text, sizeof text, "epoch %d/%d | loss %.4f | lr %.0e", epoch_of(step), r.epochs, mean,
                  schedule.at(epoch_of(step)));
    window_loss = 0;
    reported = step;
    return StepReport{mean, text};
  };
  loop.weights_finite = [&] { return all_finite(be, judge.params().values(), judge.params().size()); };
  loop.save = [&](int64_t step, bool stopped) {
    const int epochs_done = static_cast<int>(step / steps_per_epoch);
    read_loss();
    test_acc = judge_accuracy(be, judge, test_set);
    if (stopped) {  // mid-epoch or not: keep what was learned, marked, with its measured accuracy; no CSV row
      save(epochs_done, true);
      return;
    }
    const double seconds = epoch_timer.seconds();
    csv.row(epochs_done, schedule.at(epochs_done), epoch_loss / steps_per_epoch, test_acc, seconds);
    std::fprintf(stderr, "\nepoch %d: train loss %.4f, test accuracy %.2f %% (%.1f s)\n", epochs_done,
                 epoch_loss / steps_per_epoch, 100.0 * test_acc, seconds);
    save(epochs_done, false);
    epoch_loss = 0;
    epoch_timer.reset();
  };
  const StepLoopEnd end = run_steps(loop);

  const int epochs_done = static_cast<int>(end.steps / steps_per_epoch);
  std::printf("test accuracy %.2f %% after %d epochs\n", 100.0 * test_acc, epochs_done);
  std::printf("\nHeld out:\n%s", write_held_out(judge_held_out(be, judge, test_set, kHeldOutSeed), d.out()).c_str());
  std::printf("wrote %s, %s/judge.csv and held_out.md / held_out.csv\n", ckpt.c_str(), d.out().c_str());
  if (test_acc < 0.99 && !end.interrupted) std::printf("note: below the 99 %% the audits expect\n");
  return end.interrupted ? interrupted_exit_code() : 0;
}
