// lntl: "Learning Not to Learn" on Colored MNIST. For each colour variance asked: builds the biased
// training set and the colour-independent test set, trains the baseline (f+g on cross-entropy), then
// LNTL starting from the baseline checkpoint (as the official code does), and reports the unbiased
// test accuracy of both with confusion matrices.
// Settings: built-in defaults (the official recipe) < --config FILE (`key = value`, the flag names) < flags.
// OpenBLAS's own threading makes these small GEMMs slower on 2 cores; set OPENBLAS_NUM_THREADS=1.
#include <cstdio>
#include <filesystem>

#include "engine/run/driver.h"
#include "experiments/lntl/lntl_study.h"

namespace {

int run(LntlOptions o, Driver& d) {
  const std::vector<float> vars = parse_vars(o.vars);
  const Painting painting = {parse_stroke(o.stroke), parse_palette(o.palette), parse_jitter(o.jitter)};
  if (o.h_mask != "channel" && o.h_mask != "pixel")
    throw std::runtime_error("--h-mask: expected channel or pixel, got '" + o.h_mask + "'");
  o.seed = d.flags().seed;
  Backend be = d.backend();
  const Dataset train_gray = subset(load_mnist_split(d.flags().data, true), o.train_images);
  const Dataset test_gray = load_mnist_split(d.flags().data, false);
  CsvLog results(d.out_path("results.csv"), "var,method,test_accuracy,colour_agreement,epochs,train_images,seconds");
  CsvLog log(d.out_path("train_log.csv"), kLntlLogHeader);
  std::printf("lntl: %s strokes, %s palette, %s jitter, %d training images, batch %d, baseline %d epochs (lr %g), LNTL %d epochs (lr %g), lr x%g every "
              "%d epochs, lambda %g, mu %g, h's lr x%g, h's mask %s%s, seed %lld on %s\n",
              o.stroke.c_str(), o.palette.c_str(), o.jitter.c_str(), o.train_images, o.batch, o.epochs, o.lr, o.lntl_epochs, o.lntl_lr, o.lr_gamma, o.lr_step,
              o.game.lambda, o.game.mu, o.game.h_lr_scale, o.h_mask.c_str(), o.game.g_in_colour_step ? ", g steps in the colour step too" : "",
              static_cast<long long>(o.seed),
              be.name());
  std::fflush(stdout);
  std::printf("\n| var | baseline | LNTL |\n|---|---|---|\n");
  for (float var : vars) {
    const std::string dir = d.out_path("var_" + var_text(var));
    std::filesystem::create_directories(dir);
    const uint64_t seed = static_cast<uint64_t>(o.seed);
    ColoredMnist train = make_colored_mnist(train_gray, true, var, seed, painting);
    if (o.h_mask == "pixel") label_zero_channels_on_strokes(train);
    const ColoredMnist test = make_colored_mnist(test_gray, false, var, seed + 1, painting);
    write_samples(dir + "/samples_train.png", train);
    write_samples(dir + "/samples_test.png", test);
    LntlTrainer trainer(be, train, o.batch, seed);
    LntlScore scores[2];
    std::vector<float> curves[2];
    LntlPhase phases[2] = {{"baseline", o.epochs, o.lr, false}, {"lntl", o.lntl_epochs, o.lntl_lr, true}};
    for (int k = 0; k < 2; ++k) {
      const LntlPhase& ph = phases[k];
      LntlNets nets(be, seed);
      // LNTL starts from the baseline's f and g; h starts fresh.
      if (ph.adversarial) nets.load(be, dir + "/baseline.safetensors", false);
      double seconds = 0.0;  // the phase's training time (a reused baseline's in the run that trained it)
      const bool reused =
          !ph.adversarial && load_finished_baseline(be, nets, dir + "/baseline.safetensors", o, curves[k], seconds);
      if (!reused && !train_lntl_phase(be, nets, trainer, test, ph, o, dir, var, log, curves[k], seconds))
        return interrupted_exit_code();
      // An LNTL checkpoint on disk started from the baseline as it was before this run trained it: stale.
      if (!reused) phases[1].resumable = false;
      const std::string title = (ph.adversarial ? "LNTL" : "baseline") + std::string(" var ") + var_text(var);
      scores[k] = evaluate_lntl(be, nets, test, dir + "/confusion_" + ph.name + ".png", title,
                                dir + "/accuracy_by_colour_" + ph.name + ".png");
      write_gray_probe(be, nets, test_gray, painting.stroke, dir + "/accuracy_by_gray_" + ph.name + ".png", title);
      results.row(var_text(var), ph.name, scores[k].accuracy, scores[k].colour_agreement, ph.epochs, o.train_images,
                  seconds);
      std::fprintf(stderr, "%s var %s: unbiased test accuracy %.2f %% (prediction = colour's class: %.2f %%), %.0f s%s\n",
                   ph.name.c_str(), var_text(var).c_str(), 100.0 * scores[k].accuracy,
                   100.0 * scores[k].colour_agreement, seconds, reused ? " (its training, in the run that made it)" : "");
    }
    write_lntl_curves(dir + "/learning_curves.png", var_text(var), curves[0], curves[1]);
    std::printf("| %s | %.2f %% | %.2f %% |\n", var_text(var).c_str(), 100.0 * scores[0].accuracy,
                100.0 * scores[1].accuracy);
    std::fflush(stdout);
  }
  std::printf("\nwrote %s/results.csv, %s/train_log.csv and per variance: samples_{train,test}.png, "
              "confusion_{baseline,lntl}.png, accuracy_by_{colour,gray}_{baseline,lntl}.{png,csv}, learning_curves.png, "
              "{baseline,lntl}.safetensors\n",
              d.out().c_str(), d.out().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  LntlOptions o;
  Driver d("lntl",
           "Learning Not to Learn on Colored MNIST: trains the baseline, then LNTL from its checkpoint, for each colour "
           "variance, and reports both unbiased test accuracies. Defaults are the official recipe (100 + 100 epochs of "
           "60k images: days on a CPU); --config experiments/lntl/lntl_cpu.conf is a ~30-minute CPU preset.",
           {"data/mnist", "runs/lntl"});
  d.allow_config_file("key = value file of these flags (experiments/lntl/lntl.conf: official, lntl_cpu.conf: CPU)",
                      [&](Cli& cli) { add_lntl_flags(cli, o); });
  add_lntl_flags(d.cli(), o);
  return d.main(argc, argv, [&](Driver& d) { return run(o, d); });
}
