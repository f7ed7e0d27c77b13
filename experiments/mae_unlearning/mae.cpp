// mae: evidence unlearning with a modified conv autoencoder (reference 002; the study is defined in
// experiments/mae_unlearning/mae_unlearn.h, the model in models/mae.h). Warm-up on all digits, then epochs alternating learning
// on the other digits with unlearning the --forget digits; each phase is scored on a held-out validation
// split (the last --val-images of MNIST's 60k training images) and the best unlearning epoch is kept.
// Writes metrics.csv, recon_curves.png, recon_before_after.png, before / best / last checkpoints and
// summary.md (a per-digit table on the MNIST test split) to --out.
// OpenBLAS's own threading makes these small GEMMs slower on 2 cores; set OPENBLAS_NUM_THREADS=1.
#include <algorithm>
#include <cstdio>
#include <map>

#include "engine/progress.h"
#include "engine/run/driver.h"
#include "engine/run/step_loop.h"
#include "engine/write_file.h"
#include "experiments/mae_unlearning/mae_unlearn.h"

namespace {

constexpr int kMnistTrain = 60000;
constexpr int kGridPerDigit = 4;

struct Options {
  MaeStudyConfig study;
  std::string forget = "3";
  int code = 32, train_images = 50000, val_images = 10000;
  bool control = false;
};

std::map<std::string, std::string> checkpoint_meta(const Options& o, int64_t seed, const MaeEval& e) {
  return {{"forget", o.forget},        {"epoch", std::to_string(e.epoch)}, {"phase", e.phase},
          {"seed", std::to_string(seed)}, {"score", std::to_string(e.val.score)},
          {"unlearn", o.control ? "0" : "1"}};
}

int run(Options o, Driver& d) {
  MaeStudyConfig& c = o.study;
  try {
    c.forget = parse_digit_list(o.forget);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--forget: ") + e.what());
  }
  c.unlearn = !o.control;
  c.seed = d.seed();
  if (o.train_images + o.val_images > kMnistTrain)
    throw std::runtime_error("--train-images + --val-images must not exceed MNIST's " + std::to_string(kMnistTrain));
  Backend be = d.backend();
  const Dataset full = load_mnist_split(d.flags().data, true), test = load_mnist_split(d.flags().data, false);
  const Dataset train = subset(full, o.train_images);
  const Dataset val = slice(full, full.count - o.val_images, full.count);
  std::printf("mae: forget %s, code %d, %d warm-up + %d %s epochs, batch %d, lr %g, Q weight %g / unlearn %g, "
              "%d training and %d validation images, seed %lld on %s\n",
              o.forget.c_str(), o.code, c.warmup_epochs, c.epochs, c.unlearn ? "learn+unlearn" : "learn-only (control)",
              c.batch, c.lr, c.q_weight, c.unlearn_q_weight, train.count, val.count, static_cast<long long>(d.flags().seed),
              be.name());
  std::fflush(stdout);  // ahead of the progress lines on stderr when both go to one log

  Mae model(be, o.code, c.seed), before(be, o.code, c.seed), best(be, o.code, c.seed);
  CsvLog csv(d.out_path("metrics.csv"), kMaeCsvHeader);
  int learn_count = 0;
  for (int label : train.labels) learn_count += std::find(c.forget.begin(), c.forget.end(), label) == c.forget.end();
  Progress progress("mae", mae_total_steps(c, train.count, learn_count, train.count - learn_count));
  MaeHooks hooks;
  hooks.on_eval = [&](const MaeEval& e) {
    log_mae_eval(csv, e);
    std::fprintf(stderr, "\n%s\n", mae_eval_text(e).c_str());
    require_finite(e.train_recon + e.train_q + e.val.score, "the MAE's loss", "epoch " + std::to_string(e.epoch),
                   "the checkpoints written before are kept");
  };
  hooks.on_model = [&](const std::string& stage, const Mae& m, const MaeEval& e) {
    (stage == "before" ? before : best).copy_from(be, m);
    m.save(be, d.out_path(stage + ".safetensors"), checkpoint_meta(o, d.flags().seed, e));  // atomic
  };
  hooks.on_step = [&](int64_t done, int64_t, const std::string& status) { progress.update(done, status); };
  hooks.stop = interrupted;

  const MaeResult r = run_mae_study(be, model, c, train, val, hooks);
  progress.finish("");
  if (!r.evals.empty()) write_mae_plot(d.out_path("recon_curves.png"), r, c);
  if (!r.complete) {
    std::map<std::string, std::string> meta = {{"forget", o.forget}, {"interrupted", "1"}};
    model.save(be, d.out_path("interrupted.safetensors"), meta);
    std::printf("interrupted: saved %s/interrupted.safetensors; metrics.csv and recon_curves.png hold the "
                "evaluations so far\n", d.out().c_str());
    return interrupted_exit_code();
  }
  model.save(be, d.out_path("last.safetensors"), checkpoint_meta(o, d.flags().seed, r.last));

  const std::vector<MaeDigitScores> digits_before = per_digit_scores(score_images(be, before, test), test);
  const std::vector<MaeDigitScores> digits_after = per_digit_scores(score_images(be, best, test), test);
  write_mae_grid(be, {&before, &best}, test, kGridPerDigit, d.out_path("recon_before_after.png"));
  const std::string md = mae_summary_markdown(c, r, digits_before, digits_after, "MNIST test");
  write_file(d.out_path("summary.md"), "# MAE evidence unlearning\n\n" + md + "\nrecon_before_after.png: one row per digit " +
             "0-9; " + std::to_string(kGridPerDigit) + " test originals, their reconstructions before unlearning, then " +
             "by the best checkpoint.\n");
  std::printf("\n%s\nwrote %s/{metrics.csv, recon_curves.png, recon_before_after.png, before/best/last.safetensors, "
              "summary.md}\n", md.c_str(), d.out().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  MaeStudyConfig& s = o.study;
  Driver d("mae",
           "Evidence unlearning with a modified conv autoencoder: warm-up on all digits, then epochs of learning the\n"
           "other digits (reconstruction + Q cross-entropy) alternating with unlearning the forget digits\n"
           "(reconstruction pulled to flat gray, Q pushed to a uniform guess); keeps the best validation epoch.",
           {"data/mnist", "runs/mae"});
  Cli& cli = d.cli();
  cli.add("forget", &o.forget, "digits to forget, a comma list such as 3 or 1,7 (not all ten)");
  cli.add("warmup", &s.warmup_epochs, "epochs of pure learning on all digits before unlearning", 1, 100000);
  cli.add("epochs", &s.epochs, "learn + unlearn epochs after the warm-up", 1, 100000);
  cli.add("batch", &s.batch, "batch size", 1, 65536);
  cli.add("lr", &s.lr, "Adam learning rate (autoencoder and Q)", 1e-8, 1.0);
  cli.add("code", &o.code, "code (bottleneck) size", 1, 1568);
  cli.add("q-weight", &s.q_weight, "weight of Q's cross-entropy while learning", 0.0, 1e6);
  cli.add("unlearn-q-weight", &s.unlearn_q_weight, "weight of Q's negative entropy while unlearning", 0.0, 1e6);
  cli.add_switch("control", &o.control, "skip the unlearn phases: filtered training alone, for comparison");
  cli.add("train-images", &o.train_images, "training images: the first N of MNIST's 60k", 1, kMnistTrain);
  cli.add("val-images", &o.val_images, "validation images: the last N of MNIST's 60k", 1, kMnistTrain);
  return d.main(argc, argv, [&](Driver& d) { return run(o, d); });
}
