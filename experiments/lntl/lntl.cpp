// lntl: "Learning Not to Learn" on Colored MNIST. For each colour variance asked: builds the biased
// training set and the colour-independent test set, trains the baseline (f+g on cross-entropy), then
// LNTL starting from the baseline checkpoint (as the official code does), and reports the unbiased
// test accuracy of both with confusion matrices.
// Settings: built-in defaults (the official recipe) < --config FILE (`key = value`, the flag names) < flags.
// OpenBLAS's own threading makes these small GEMMs slower on 2 cores; set OPENBLAS_NUM_THREADS=1.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/config.h"
#include "engine/png.h"
#include "engine/progress.h"
#include "engine/timer.h"
#include "experiments/lntl/lntl_train.h"

namespace {

struct Options {
  std::string vars = "0.035", device = "auto", data = "data/mnist", out = "runs/lntl", config;
  int train_images = 60000, epochs = 100, lntl_epochs = 100, batch = 128, lr_step = 40;
  float lr = 0.01f, lntl_lr = 0.001f, lr_gamma = 0.1f, momentum = 0.9f, weight_decay = 5e-4f;
  float lambda = 0.01f, mu = 0.1f;
  int64_t seed = 0;
  bool reuse_baseline = false;
};

// The flags, registered on any Cli bound to o: the command line's and the config file's.
void add_flags(Cli& cli, Options& o) {
  cli.add("config", &o.config, "key = value file of these flags (experiments/lntl/lntl.conf: official, lntl_cpu.conf: CPU)");
  cli.add("var", &o.vars, "colour variances to run, a comma list, e.g. 0.02,0.035,0.05 (paper: 0.020..0.050)");
  cli.add("train-images", &o.train_images, "training images used (the first N of MNIST's 60k)", 128, 60000);
  cli.add("epochs", &o.epochs, "baseline epochs (official: 100)", 1, 100000);
  cli.add("lntl-epochs", &o.lntl_epochs, "LNTL epochs from the baseline checkpoint (official: 100)", 1, 100000);
  cli.add("batch", &o.batch, "batch size", 2, 65536);
  cli.add("lr", &o.lr, "baseline SGD learning rate (official: 0.01)", 1e-8, 10.0);
  cli.add("lntl-lr", &o.lntl_lr, "LNTL SGD learning rate (official: 0.001)", 1e-8, 10.0);
  cli.add("lr-step", &o.lr_step, "epochs between learning-rate decays (official: 40)", 1, 100000);
  cli.add("lr-gamma", &o.lr_gamma, "learning-rate factor at each decay", 1e-6, 1.0);
  cli.add("momentum", &o.momentum, "SGD momentum", 0.0, 0.999);
  cli.add("weight-decay", &o.weight_decay, "SGD L2 weight decay", 0.0, 1.0);
  cli.add("lambda", &o.lambda, "weight of h's negative entropy in the f,g step", 0.0, 100.0);
  cli.add("mu", &o.mu, "gradient-reversal factor: f receives -mu x h's colour gradient", 0.0, 100.0);
  cli.add("seed", &o.seed, "seed for the colours, initialisation and data order", 0, INT64_MAX);
  cli.add("device", &o.device, "where to run", {"auto", "cpu", "cuda"});
  cli.add("data", &o.data, "folder with the MNIST IDX files (bash data/fetch.sh)");
  cli.add("out", &o.out, "output folder");
  cli.add_switch("reuse-baseline", &o.reuse_baseline, "load a finished baseline.safetensors from an earlier run");
}

std::vector<float> parse_vars(const std::string& s) {
  std::vector<float> vars;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    float v = 0.0f;
    try {
      v = std::stof(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || item.find_first_not_of(" ", used) != std::string::npos || !(v > 0.0f && v < 1.0f))
      throw std::runtime_error("--var: expected a comma list of variances in (0, 1), got '" + s + "'");
    vars.push_back(v);
  }
  if (vars.empty()) throw std::runtime_error("--var: the list is empty");
  return vars;
}

std::string var_text(float var) {
  char s[32];
  std::snprintf(s, sizeof s, "%.3f", var);
  return s;
}

// StepLR stepped once per epoch (epoch counts from 1).
float epoch_lr(float lr, const Options& o, int epoch) {
  return lr * std::pow(o.lr_gamma, static_cast<float>((epoch - 1) / o.lr_step));
}

// Ten images of each digit, a row per digit: the training grid shows one colour per row, the test
// grid shows colours that ignore the row.
void write_samples(const std::string& path, const ColoredMnist& d) {
  std::vector<float> grid;
  for (int digit = 0; digit < 10; ++digit)
    for (int i = 0, taken = 0; i < d.count && taken < 10; ++i)
      if (d.labels[i] == digit) {
        grid.insert(grid.end(), d.images.begin() + static_cast<size_t>(i) * ColoredMnist::kDim,
                    d.images.begin() + static_cast<size_t>(i + 1) * ColoredMnist::kDim);
        ++taken;
      }
  const int n = static_cast<int>(grid.size() / ColoredMnist::kDim);
  write_image_grid(path, grid.data(), n, 3, ColoredMnist::kSide, ColoredMnist::kSide, 10, 2, 2);
}

struct Score {
  double accuracy = 0, colour_agreement = 0;  // predicted == label, predicted == the painted colour's class
};

// Scores the test set; when png is not empty also writes its confusion matrix there.
Score evaluate(const Backend& be, LntlNets& nets, const ColoredMnist& test, const std::string& png = "",
               const std::string& title = "") {
  const std::vector<int> pred = predict_digits(be, nets, test);
  Heatmap h;
  h.rows = h.cols = 10;
  h.values.assign(100, 0.0f);
  Score s;
  for (int i = 0; i < test.count; ++i) {
    h.values[test.labels[i] * 10 + pred[i]] += 1.0f;
    s.accuracy += pred[i] == test.labels[i];
    s.colour_agreement += pred[i] == test.colours[i];
  }
  s.accuracy /= test.count;
  s.colour_agreement /= test.count;
  if (png.empty()) return s;
  char t[160];
  std::snprintf(t, sizeof t, "%s: accuracy %.2f %%", title.c_str(), 100.0 * s.accuracy);
  h.title = t;
  h.xlabel = "predicted digit";
  h.ylabel = "true digit";
  write_heatmap(png, h);
  return s;
}

struct Phase {
  std::string name;  // "baseline" or "lntl"
  int epochs;
  float lr;
  bool adversarial;
};

// Trains one phase, checkpointing after every epoch. Returns false when Ctrl-C stopped it (the
// checkpoint then holds the partial epoch, marked interrupted).
bool train_phase(Backend& be, LntlNets& nets, LntlTrainer& trainer, const ColoredMnist& test, const Phase& ph,
                 const Options& o, const std::string& dir, float var, std::ofstream& log) {
  LntlEpochPlan plan;
  plan.adversarial = ph.adversarial;
  plan.opt.momentum = o.momentum;
  plan.opt.weight_decay = o.weight_decay;
  plan.lambda = o.lambda;
  plan.mu = o.mu;
  const std::string ckpt = dir + "/" + ph.name + ".safetensors";
  auto save = [&](int epochs_done, bool partial) {
    std::map<std::string, std::string> meta = {{"phase", ph.name},         {"epochs", std::to_string(epochs_done)},
                                               {"var", var_text(var)},     {"lr", std::to_string(ph.lr)},
                                               {"seed", std::to_string(o.seed)},
                                               {"train_images", std::to_string(o.train_images)}};
    if (partial) meta["interrupted"] = "1";
    nets.save(be, ckpt, ph.adversarial, meta);
  };
  Progress progress(ph.name + " var " + var_text(var), static_cast<int64_t>(ph.epochs) * trainer.steps_per_epoch());
  int64_t step = 0;
  for (int epoch = 1; epoch <= ph.epochs; ++epoch) {
    plan.opt.lr = epoch_lr(ph.lr, o, epoch);
    Timer timer;
    const LntlEpochLosses sums = trainer.run_epoch(be, nets, plan, [&](const LntlEpochLosses& so_far) {
      const LntlEpochLosses m = so_far.mean();
      char line[128];
      const int len = std::snprintf(line, sizeof line, "epoch %d/%d | ce %.4f", epoch, ph.epochs, m.ce);
      if (ph.adversarial) std::snprintf(line + len, sizeof line - len, " | colour ce %.4f", m.colour_ce);
      progress.update(++step, line);
      return !interrupted();
    });
    if (sums.steps < trainer.steps_per_epoch()) {
      progress.finish("interrupted");
      save(epoch - 1, true);
      std::printf("interrupted: saved %s (partial epoch %d)\n", ckpt.c_str(), epoch);
      return false;
    }
    const LntlEpochLosses m = sums.mean();
    const double seconds = timer.seconds();
    const Score score = evaluate(be, nets, test);
    std::fprintf(stderr, "\n%s epoch %d: ce %.4f, colour ce %.4f, lambda x neg. entropy %.4f, unbiased test accuracy "
                 "%.2f %% (%.0f s)\n", ph.name.c_str(), epoch, m.ce, m.colour_ce, m.neg_entropy, 100.0 * score.accuracy,
                 seconds);
    log << var_text(var) << ',' << ph.name << ',' << epoch << ',' << plan.opt.lr << ',' << m.ce << ','
        << m.neg_entropy << ',' << m.colour_ce << ',' << score.accuracy << ',' << seconds << '\n';
    log.flush();
    save(epoch, false);
  }
  progress.finish("");
  return true;
}

// A finished baseline from an earlier run with the same data settings, when --reuse-baseline asks for it.
bool load_finished_baseline(const Backend& be, LntlNets& nets, const std::string& path, const Options& o) {
  if (!o.reuse_baseline || !std::filesystem::exists(path)) return false;
  std::map<std::string, std::string> meta;
  load_safetensors(path, &meta);
  if (meta.count("interrupted") || meta["epochs"] != std::to_string(o.epochs) ||
      meta["train_images"] != std::to_string(o.train_images) || meta["seed"] != std::to_string(o.seed))
    return false;
  nets.load(be, path, false);
  std::printf("baseline: reusing %s\n", path.c_str());
  return true;
}

int run(const Options& o) {
  const std::vector<float> vars = parse_vars(o.vars);
  Backend be = make_backend(o.device, static_cast<uint64_t>(o.seed));
  const Dataset train_gray = subset(load_mnist_split(o.data, true), o.train_images);
  const Dataset test_gray = load_mnist_split(o.data, false);
  std::filesystem::create_directories(o.out);
  std::ofstream results(o.out + "/results.csv"), log(o.out + "/train_log.csv");
  results << "var,method,test_accuracy,colour_agreement,epochs,train_images,seconds\n";
  log << "var,phase,epoch,lr,ce,lambda_neg_entropy,colour_ce,test_accuracy,seconds\n";
  std::printf("lntl: %d training images, batch %d, baseline %d epochs (lr %g), LNTL %d epochs (lr %g), lr x%g every "
              "%d epochs, lambda %g, mu %g, seed %lld on %s\n",
              o.train_images, o.batch, o.epochs, o.lr, o.lntl_epochs, o.lntl_lr, o.lr_gamma, o.lr_step, o.lambda,
              o.mu, static_cast<long long>(o.seed), be.name());
  std::fflush(stdout);
  std::printf("\n| var | baseline | LNTL |\n|---|---|---|\n");
  for (float var : vars) {
    const std::string dir = o.out + "/var_" + var_text(var);
    std::filesystem::create_directories(dir);
    const uint64_t seed = static_cast<uint64_t>(o.seed);
    const ColoredMnist train = make_colored_mnist(train_gray, true, var, seed);
    const ColoredMnist test = make_colored_mnist(test_gray, false, var, seed + 1);
    write_samples(dir + "/samples_train.png", train);
    write_samples(dir + "/samples_test.png", test);
    LntlTrainer trainer(be, train, o.batch, seed);
    Score scores[2];
    const Phase phases[2] = {{"baseline", o.epochs, o.lr, false}, {"lntl", o.lntl_epochs, o.lntl_lr, true}};
    for (int k = 0; k < 2; ++k) {
      const Phase& ph = phases[k];
      LntlNets nets(be, seed);
      Timer timer;
      // LNTL starts from the baseline's f and g; h starts fresh.
      if (ph.adversarial) nets.load(be, dir + "/baseline.safetensors", false);
      const bool reused = !ph.adversarial && load_finished_baseline(be, nets, dir + "/baseline.safetensors", o);
      if (!reused && !train_phase(be, nets, trainer, test, ph, o, dir, var, log)) return 130;
      scores[k] = evaluate(be, nets, test, dir + "/confusion_" + ph.name + ".png",
                           (ph.adversarial ? "LNTL" : "baseline") + std::string(" var ") + var_text(var));
      results << var_text(var) << ',' << ph.name << ',' << scores[k].accuracy << ',' << scores[k].colour_agreement
              << ',' << ph.epochs << ',' << o.train_images << ',' << timer.seconds() << '\n';
      results.flush();
      std::fprintf(stderr, "%s var %s: unbiased test accuracy %.2f %% (prediction = colour's class: %.2f %%), %.0f s\n",
                   ph.name.c_str(), var_text(var).c_str(), 100.0 * scores[k].accuracy,
                   100.0 * scores[k].colour_agreement, timer.seconds());
    }
    std::printf("| %s | %.2f %% | %.2f %% |\n", var_text(var).c_str(), 100.0 * scores[0].accuracy,
                100.0 * scores[1].accuracy);
    std::fflush(stdout);
  }
  std::printf("\nwrote %s/results.csv, %s/train_log.csv and per variance: samples_{train,test}.png, "
              "confusion_{baseline,lntl}.png, {baseline,lntl}.safetensors\n",
              o.out.c_str(), o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("lntl", [&] {
    Options o;
    const std::string summary =
        "Learning Not to Learn on Colored MNIST: trains the baseline, then LNTL from its checkpoint, for each colour "
        "variance, and reports both unbiased test accuracies. Defaults are the official recipe (100 + 100 epochs of "
        "60k images: days on a CPU); --config experiments/lntl/lntl_cpu.conf is a ~30-minute CPU preset.";
    const std::string config = find_flag_value(argc, argv, "config");
    if (!config.empty()) {
      Cli file_cli("lntl", summary);
      add_flags(file_cli, o);
      apply_config_file(file_cli, config);
    }
    Cli cli("lntl", summary);
    add_flags(cli, o);
    if (!cli.parse(argc, argv)) return 0;
    return run(o);
  });
}
