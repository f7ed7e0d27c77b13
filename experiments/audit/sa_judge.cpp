// sa_judge: trains the Selective Amnesia MNIST judge (the classifier every audit reuses): the official
// architecture, batch 64 and Adam, but a schedule that reaches the >= 99 % the audits need.
//
// Measured (seed 0, 2-core CPU, OPENBLAS_NUM_THREADS=1: ~9 s per 937-step epoch, ~3 min in all):
//   official recipe (--lr 1e-4 --lr-step 5 --epochs 20)   97.3 % test accuracy (plateaus from epoch 7:
//                                                         the lr is 1e-5 and below after epoch 5)
//   defaults (lr 1e-3, x0.1 every 8 epochs, 16 epochs)     99.05 % (99.0 % from epoch 12 on)
// The architecture's heavy dropout (0.5 on 20 conv channels and on 50 hidden units) caps it near
// 99.0-99.1 % whatever the schedule.
// OpenBLAS's own threading makes these small GEMMs ~2x SLOWER on 2 cores; set OPENBLAS_NUM_THREADS=1.
// --no-digit-class trains the forgetting audit's 11-way judge instead (experiments/audit/no_digit.h):
// the same network with an 11th output, "no digit", on MNIST plus synthetic featureless images, with
// weakened real digits kept under their labels; it ends with its held-out report (held_out.md).
#include <cstdio>
#include <map>
#include <memory>

#include "engine/batcher.h"
#include "engine/progress.h"
#include "engine/run/csv_log.h"
#include "engine/run/driver.h"
#include "engine/run/lr_schedule.h"
#include "engine/run/step_loop.h"
#include "engine/timer.h"
#include "experiments/audit/no_digit.h"
#include "models/judge.h"

namespace {

struct Options {
  int epochs = 16, batch = 64, lr_step = 8;
  float lr = 1e-3f, lr_gamma = 0.1f, dropout = -1.0f;  // dropout -1: 0.5, or 0.2 with no_digit_class
  bool no_digit_class = false;
};

// The held-out featureless images come from a generator seeded apart from every training seed.
constexpr uint64_t kHeldOutSeed = 0x4E0D161700ULL;

int train(const Options& o, Driver& d) {
  Backend be = d.backend();
  const std::string& data = d.flags().data;
  const int64_t seed = d.flags().seed;
  Dataset train_set = load_mnist_split(data, true);
  Dataset test_set = load_mnist_split(data, false);
  if (train_set.dim() != Judge::kPixels) throw std::runtime_error(data + ": the judge needs 28x28 images");
  const int steps_per_epoch = train_set.count / o.batch;  // the Batcher drops each epoch's ragged tail
  const int classes = o.no_digit_class ? Judge::kDigits + 1 : Judge::kDigits;
  std::printf("sa_judge: %d classes, %d epochs x %d steps, batch %d, Adam lr %g (x%g every %d epochs), seed %lld on %s\n",
              classes, o.epochs, steps_per_epoch, o.batch, o.lr, o.lr_gamma, o.lr_step, static_cast<long long>(seed),
              be.name());

  Judge judge(be, d.seed(), classes);
  judge.set_dropout(o.dropout >= 0 ? o.dropout : o.no_digit_class ? 0.2f : Judge::kDropout);
  std::printf("dropout %g in training\n", judge.dropout());
  // Real digits only, or (11-way) real digits, weakened digits and featureless images.
  std::unique_ptr<Batcher> digits;
  std::unique_ptr<NoDigitBatcher> with_no_digit;
  if (o.no_digit_class) with_no_digit = std::make_unique<NoDigitBatcher>(be, train_set, o.batch, d.seed());
  else digits = std::make_unique<Batcher>(be, train_set, Judge::kDigits, o.batch, d.seed());
  Buffer<float> loss(be, 1);  // sum of the batch-mean losses since the last read
  const std::string ckpt = d.out_path("judge.safetensors");
  auto save = [&](int epochs_done, double acc, bool partial) {
    std::map<std::string, std::string> meta = {
        {"epochs", std::to_string(epochs_done)}, {"seed", std::to_string(seed)}, {"lr", std::to_string(o.lr)},
        {"lr_step", std::to_string(o.lr_step)},   {"lr_gamma", std::to_string(o.lr_gamma)},
        {"batch", std::to_string(o.batch)},       {"test_accuracy", std::to_string(acc)},
        {"dropout", std::to_string(judge.dropout())}};
    if (partial) meta["interrupted"] = "1";
    judge.save(be, ckpt, meta);
  };
  CsvLog csv(d.out_path("judge.csv"), "epoch,lr,train_loss,test_accuracy,seconds");
  const StepDecay schedule(o.lr, o.lr_step, o.lr_step, o.lr_gamma);  // PyTorch's StepLR, stepped per epoch

  Progress progress("sa_judge", static_cast<int64_t>(o.epochs) * steps_per_epoch);
  const int log_every = 50;  // steps between progress updates (each reads the loss back: a device sync)
  double test_acc = 0.0;
  int epoch = 0, step = 0;
  while (epoch < o.epochs && !interrupted()) {
    ++epoch;
    const float lr = schedule.at(epoch);
    Timer timer;
    double epoch_loss = 0.0, window_loss = 0.0;
    int window = 0, done = 0;
    for (int s = 0; s < steps_per_epoch && !interrupted(); ++s) {
      if (with_no_digit) {
        with_no_digit->next(be);
        judge.train_step(be, with_no_digit->x(), with_no_digit->labels(), o.batch, lr, loss.data());
      } else {
        digits->next(be);
        judge.train_step(be, digits->x(), digits->labels(), o.batch, lr, loss.data());
      }
      ++step; ++done; ++window;
      if (window == log_every || s + 1 == steps_per_epoch) {
        float sum = 0.0f;
        copy_out(be, &sum, loss.data(), sizeof sum);
        zero_on(be, loss.data(), sizeof(float));
        epoch_loss += sum;
        window_loss = sum / window;
        window = 0;
        char line[96];
        std::snprintf(line, sizeof line, "epoch %d/%d | loss %.4f | lr %.0e", epoch, o.epochs, window_loss, lr);
        progress.update(step, line);
        require_finite(window_loss, "the training loss", "step " + std::to_string(step),
                       epoch > 1 ? "the checkpoint of epoch " + std::to_string(epoch - 1) + " is kept"
                                 : std::string("no checkpoint was written"));
      }
    }
    if (done < steps_per_epoch) {  // interrupted mid-epoch: keep the partial epoch's weights, no CSV row
      --epoch;
      break;
    }
    test_acc = judge_accuracy(be, judge, test_set);
    const double seconds = timer.seconds();
    csv.row(epoch, lr, epoch_loss / steps_per_epoch, test_acc, seconds);
    std::fprintf(stderr, "\nepoch %d: train loss %.4f, test accuracy %.2f %% (%.1f s)\n", epoch,
                 epoch_loss / steps_per_epoch, 100.0 * test_acc, seconds);
    save(epoch, test_acc, false);
  }
  progress.finish("");
  if (epoch < o.epochs) {
    // Interrupted: keep whatever was learned, labelled with its measured accuracy.
    test_acc = judge_accuracy(be, judge, test_set);
    save(epoch, test_acc, true);
  }
  std::printf("test accuracy %.2f %% after %d epochs\n", 100.0 * test_acc, epoch);
  std::printf("\nHeld out:\n%s", write_held_out(judge_held_out(be, judge, test_set, kHeldOutSeed), d.out()).c_str());
  std::printf("wrote %s, %s/judge.csv and held_out.md / held_out.csv\n", ckpt.c_str(), d.out().c_str());
  if (test_acc < 0.99 && epoch == o.epochs) std::printf("note: below the 99 %% the audits expect\n");
  return epoch < o.epochs ? interrupted_exit_code() : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  Driver d("sa_judge",
           "Train the Selective Amnesia MNIST judge classifier (conv-BN-pool x2, fc 320-50-10) used by every audit. "
           "The defaults reach ~99.05 % test accuracy (seed 0); the official recipe (--lr 1e-4 --lr-step 5 "
           "--epochs 20) stops near 97.3 %. On a CPU an epoch takes ~9 s with OPENBLAS_NUM_THREADS=1 "
           "(2 cores; OpenBLAS threading is ~2x slower here). --out defaults to runs/judge, or runs/judge11 with "
           "--no-digit-class.",
           {"data/mnist", ""});
  d.derive_out([&] { return o.no_digit_class ? "runs/judge11" : "runs/judge"; });
  Cli& cli = d.cli();
  cli.add("epochs", &o.epochs, "training epochs (official: 20)", 1, 100000);
  cli.add("batch", &o.batch, "batch size", 2, 65536);
  cli.add("lr", &o.lr, "Adam learning rate of the first epochs (official: 1e-4)", 1e-8, 1.0);
  cli.add("lr-step", &o.lr_step, "epochs between learning-rate decays (official: 5)", 1, 100000);
  cli.add("lr-gamma", &o.lr_gamma, "learning-rate factor at each decay", 1e-6, 1.0);
  cli.add("dropout", &o.dropout, "dropout rate of both dropout layers in training; -1: 0.5 (the official), or 0.2 "
          "with --no-digit-class", -1.0, 0.95);
  cli.add_switch("no-digit-class", &o.no_digit_class,
                 "train the forgetting audit's 11-way judge: an 11th class, \"no digit\", learned from synthetic "
                 "featureless images, with weakened real digits kept under their labels");
  return d.main(argc, argv, [&](Driver& d) { return train(o, d); });
}
