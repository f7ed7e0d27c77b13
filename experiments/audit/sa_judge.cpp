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
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/batcher.h"
#include "engine/cli.h"
#include "engine/progress.h"
#include "engine/timer.h"
#include "models/judge.h"

namespace {

struct Options {
  int epochs = 16, batch = 64, lr_step = 8;
  float lr = 1e-3f, lr_gamma = 0.1f;
  int64_t seed = 0;
  std::string device = "auto", data = "data/mnist", out = "runs/judge";
};

// Step decay, as PyTorch's StepLR stepped once per epoch: epochs 1..lr_step use lr, the next lr_step use
// lr * gamma, and so on (epoch counts from 1).
float epoch_lr(const Options& o, int epoch) {
  float lr = o.lr;
  for (int e = o.lr_step; e < epoch; e += o.lr_step) lr *= o.lr_gamma;
  return lr;
}

int train(const Options& o) {
  Backend be = make_backend(o.device, static_cast<uint64_t>(o.seed));
  Dataset train_set = load_mnist_split(o.data, true);
  Dataset test_set = load_mnist_split(o.data, false);
  if (train_set.dim() != Judge::kPixels) throw std::runtime_error(o.data + ": the judge needs 28x28 images");
  std::filesystem::create_directories(o.out);
  const int steps_per_epoch = train_set.count / o.batch;  // the Batcher drops each epoch's ragged tail
  std::printf("sa_judge: %d epochs x %d steps, batch %d, Adam lr %g (x%g every %d epochs), seed %lld on %s\n",
              o.epochs, steps_per_epoch, o.batch, o.lr, o.lr_gamma, o.lr_step, static_cast<long long>(o.seed),
              be.name());

  Judge judge(be, static_cast<uint64_t>(o.seed));
  Batcher batcher(be, train_set, Judge::kClasses, o.batch, static_cast<uint64_t>(o.seed));
  Buffer<float> loss(be, 1);  // sum of the batch-mean losses since the last read
  const std::string ckpt = o.out + "/judge.safetensors";
  auto save = [&](int epochs_done, double acc, bool partial) {
    std::map<std::string, std::string> meta = {
        {"epochs", std::to_string(epochs_done)}, {"seed", std::to_string(o.seed)}, {"lr", std::to_string(o.lr)},
        {"lr_step", std::to_string(o.lr_step)},   {"lr_gamma", std::to_string(o.lr_gamma)},
        {"batch", std::to_string(o.batch)},       {"test_accuracy", std::to_string(acc)}};
    if (partial) meta["interrupted"] = "1";
    judge.save(be, ckpt, meta);
  };
  std::ofstream csv(o.out + "/judge.csv");
  csv << "epoch,lr,train_loss,test_accuracy,seconds\n";

  Progress progress("sa_judge", static_cast<int64_t>(o.epochs) * steps_per_epoch);
  const int log_every = 50;  // steps between progress updates (each reads the loss back: a device sync)
  double test_acc = 0.0;
  int epoch = 0, step = 0;
  while (epoch < o.epochs && !interrupted()) {
    ++epoch;
    const float lr = epoch_lr(o, epoch);
    Timer timer;
    double epoch_loss = 0.0, window_loss = 0.0;
    int window = 0, done = 0;
    for (int s = 0; s < steps_per_epoch && !interrupted(); ++s) {
      batcher.next(be);
      judge.train_step(be, batcher.x(), batcher.labels(), o.batch, lr, loss.data());
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
      }
    }
    if (done < steps_per_epoch) {  // interrupted mid-epoch: keep the partial epoch's weights, no CSV row
      --epoch;
      break;
    }
    test_acc = judge_accuracy(be, judge, test_set);
    const double seconds = timer.seconds();
    csv << epoch << ',' << lr << ',' << epoch_loss / steps_per_epoch << ',' << test_acc << ',' << seconds << '\n';
    csv.flush();
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
  std::printf("wrote %s and %s/judge.csv\n", ckpt.c_str(), o.out.c_str());
  if (test_acc < 0.99 && epoch == o.epochs) std::printf("note: below the 99 %% the audits expect\n");
  return epoch < o.epochs ? 130 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("sa_judge", [&] {
    Options o;
    Cli cli("sa_judge",
            "Train the Selective Amnesia MNIST judge classifier (conv-BN-pool x2, fc 320-50-10) used by every audit. "
            "The defaults reach ~99.05 % test accuracy (seed 0); the official recipe (--lr 1e-4 --lr-step 5 "
            "--epochs 20) stops near 97.3 %. On a CPU an epoch takes ~9 s with OPENBLAS_NUM_THREADS=1 "
            "(2 cores; OpenBLAS threading is ~2x slower here).");
    cli.add("epochs", &o.epochs, "training epochs (official: 20)", 1, 100000);
    cli.add("batch", &o.batch, "batch size", 2, 65536);
    cli.add("lr", &o.lr, "Adam learning rate of the first epochs (official: 1e-4)", 1e-8, 1.0);
    cli.add("lr-step", &o.lr_step, "epochs between learning-rate decays (official: 5)", 1, 100000);
    cli.add("lr-gamma", &o.lr_gamma, "learning-rate factor at each decay", 1e-6, 1.0);
    cli.add("seed", &o.seed, "seed for initialisation, data order and dropout", 0, INT64_MAX);
    cli.add("device", &o.device, "where to run", {"auto", "cpu", "cuda"});
    cli.add("data", &o.data, "folder with the MNIST IDX files (bash data/fetch.sh)");
    cli.add("out", &o.out, "output folder: judge.safetensors, judge.csv");
    if (!cli.parse(argc, argv)) return 0;
    return train(o);
  });
}
