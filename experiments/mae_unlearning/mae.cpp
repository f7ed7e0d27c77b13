// mae: evidence unlearning with a modified conv autoencoder (reference 002; the study is defined in
// models/mae_unlearn.h, the model in models/mae.h). Warm-up on all digits, then epochs alternating learning
// on the other digits with unlearning the --forget digits; each phase is scored on a held-out validation
// split (the last --val-images of MNIST's 60k training images) and the best unlearning epoch is kept.
// Writes metrics.csv, recon_curves.png, recon_before_after.png, before / best / last checkpoints and
// summary.md (a per-digit table on the MNIST test split) to --out.
// OpenBLAS's own threading makes these small GEMMs slower on 2 cores; set OPENBLAS_NUM_THREADS=1.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/cli.h"
#include "engine/progress.h"
#include "experiments/mae_unlearning/mae_unlearn.h"

namespace {

constexpr int kMnistTrain = 60000;
constexpr int kGridPerDigit = 4;

struct Options {
  MaeStudyConfig study;
  std::string forget = "3", device = "auto", data = "data/mnist", out = "runs/mae";
  int code = 32, train_images = 50000, val_images = 10000;
  bool control = false;
  int64_t seed = 0;
};

// Examples [begin, end) of d.
Dataset examples(const Dataset& d, int begin, int end) {
  Dataset out = subset(d, end);
  out.count = end - begin;
  out.images.erase(out.images.begin(), out.images.begin() + static_cast<size_t>(begin) * d.dim());
  out.labels.erase(out.labels.begin(), out.labels.begin() + begin);
  return out;
}

std::map<std::string, std::string> checkpoint_meta(const Options& o, const MaeEval& e) {
  return {{"forget", o.forget},          {"epoch", std::to_string(e.epoch)}, {"phase", e.phase},
          {"seed", std::to_string(o.seed)}, {"score", std::to_string(e.val.score)},
          {"unlearn", o.control ? "0" : "1"}};
}

void print_eval(const MaeEval& e) {
  std::fprintf(stderr,
               "\nepoch %d %s: train recon %.2f q %.4f | val BCE learn %.2f forget %.2f | Q acc learn %.2f %% forget "
               "%.2f %% | forget Q entropy %.3f | score %.2f%s (%.1f s)\n",
               e.epoch, e.phase.c_str(), e.train_recon, e.train_q, e.val.learn_bce, e.val.forget_bce,
               100.0 * e.val.learn_q_acc, 100.0 * e.val.forget_q_acc, e.val.forget_q_entropy, e.val.score,
               e.best ? " (best)" : "", e.seconds);
}

int run(Options o) {
  MaeStudyConfig& c = o.study;
  try {
    c.forget = parse_digit_list(o.forget);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("--forget: ") + e.what());
  }
  c.unlearn = !o.control;
  c.seed = static_cast<uint64_t>(o.seed);
  if (o.train_images + o.val_images > kMnistTrain)
    throw std::runtime_error("--train-images + --val-images must not exceed MNIST's " + std::to_string(kMnistTrain));
  Backend be = make_backend(o.device, c.seed);
  const Dataset full = load_mnist_split(o.data, true), test = load_mnist_split(o.data, false);
  const Dataset train = subset(full, o.train_images);
  const Dataset val = examples(full, full.count - o.val_images, full.count);
  std::filesystem::create_directories(o.out);
  std::printf("mae: forget %s, code %d, %d warm-up + %d %s epochs, batch %d, lr %g, Q weight %g / unlearn %g, "
              "%d training and %d validation images, seed %lld on %s\n",
              o.forget.c_str(), o.code, c.warmup_epochs, c.epochs, c.unlearn ? "learn+unlearn" : "learn-only (control)",
              c.batch, c.lr, c.q_weight, c.unlearn_q_weight, train.count, val.count, static_cast<long long>(o.seed),
              be.name());
  std::fflush(stdout);  // ahead of the progress lines on stderr when both go to one log

  Mae model(be, o.code, c.seed), before(be, o.code, c.seed), best(be, o.code, c.seed);
  MaeCsv csv(o.out + "/metrics.csv");
  int learn_count = 0;
  for (int label : train.labels) learn_count += std::find(c.forget.begin(), c.forget.end(), label) == c.forget.end();
  Progress progress("mae", mae_total_steps(c, train.count, learn_count, train.count - learn_count));
  MaeHooks hooks;
  hooks.on_eval = [&](const MaeEval& e) {
    csv.append(e);
    print_eval(e);
  };
  hooks.on_model = [&](const std::string& stage, const Mae& m, const MaeEval& e) {
    (stage == "before" ? before : best).copy_from(be, m);
    m.save(be, o.out + "/" + stage + ".safetensors", checkpoint_meta(o, e));  // atomic: temp file + rename
  };
  hooks.on_step = [&](int done, int, const std::string& status) { progress.update(done, status); };
  hooks.stop = [] { return interrupted(); };

  const MaeResult r = run_mae_study(be, model, c, train, val, hooks);
  progress.finish("");
  if (!r.evals.empty()) write_mae_plot(o.out + "/recon_curves.png", r, c);
  if (!r.complete) {
    std::map<std::string, std::string> meta = {{"forget", o.forget}, {"interrupted", "1"}};
    model.save(be, o.out + "/interrupted.safetensors", meta);
    std::printf("interrupted: saved %s/interrupted.safetensors; metrics.csv and recon_curves.png hold the "
                "evaluations so far\n", o.out.c_str());
    return 130;
  }
  model.save(be, o.out + "/last.safetensors", checkpoint_meta(o, r.last));

  const std::vector<MaeDigitScores> digits_before = per_digit_scores(score_images(be, before, test), test);
  const std::vector<MaeDigitScores> digits_after = per_digit_scores(score_images(be, best, test), test);
  write_mae_grid(be, {&before, &best}, test, kGridPerDigit, o.out + "/recon_before_after.png");
  const std::string md = mae_summary_markdown(c, r, digits_before, digits_after, "MNIST test");
  std::ofstream(o.out + "/summary.md")
      << "# MAE evidence unlearning\n\n" << md
      << "\nrecon_before_after.png: one row per digit 0-9; " << kGridPerDigit << " test originals, their "
      << "reconstructions before unlearning, then by the best checkpoint.\n";
  std::printf("\n%s\nwrote %s/{metrics.csv, recon_curves.png, recon_before_after.png, before/best/last.safetensors, "
              "summary.md}\n", md.c_str(), o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("mae", [&] {
    Options o;
    MaeStudyConfig& s = o.study;
    Cli cli("mae",
            "Evidence unlearning with a modified conv autoencoder: warm-up on all digits, then epochs of learning the\n"
            "other digits (reconstruction + Q cross-entropy) alternating with unlearning the forget digits\n"
            "(reconstruction pulled to flat gray, Q pushed to a uniform guess); keeps the best validation epoch.");
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
    cli.add("seed", &o.seed, "seed for initialisation and data order", 0, INT64_MAX);
    cli.add("device", &o.device, "where to run", {"auto", "cpu", "cuda"});
    cli.add("data", &o.data, "folder with the MNIST IDX files (bash data/fetch.sh)");
    cli.add("out", &o.out, "output folder");
    if (!cli.parse(argc, argv)) return 0;
    return run(o);
  });
}
