#include "experiments/lntl/lntl_study.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iterator>
#include <limits>
#include <map>
#include <sstream>
#include <stdexcept>

#include "engine/png.h"
#include "engine/progress.h"
#include "engine/run/lr_schedule.h"
#include "engine/run/step_loop.h"
#include "engine/run/stop.h"
#include "engine/text.h"
#include "engine/timer.h"

void add_lntl_flags(Cli& cli, LntlOptions& o) {
  cli.add("var", &o.vars, "colour variances to run, a comma list, e.g. 0.02,0.035,0.05 (paper: 0.020..0.050)");
  cli.add("stroke", &o.stroke, "how digits are painted: binary (the official data: gray > 128 takes the colour) or "
          "gray (gray x colour, this project's first generator)");
  cli.add("palette", &o.palette, "the classes' mean colours: substitute (DESIGN.md's stand-in for the unpublished "
          "official one) or estimated (the official one as measured from published samples of its data)");
  cli.add("jitter", &o.jitter, "how a jittered colour channel stays in [0, 1]: clamp (clip it) or resample (draw it "
          "again until inside, a truncated Gaussian: the official data has no channel at 0 or 255)");
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
  cli.add("lambda", &o.game.lambda, "weight of h's negative entropy in the f,g step", 0.0, 100.0);
  cli.add("mu", &o.game.mu, "gradient-reversal factor: f receives -mu x h's colour gradient", 0.0, 100.0);
  cli.add("h-lr-scale", &o.game.h_lr_scale, "h's learning rate as a multiple of f's and g's (official: 1)", 1e-3, 1e3);
  cli.add("h-mask", &o.h_mask, "which colour labels h ignores: channel (official: every channel that is 0, so on a "
          "navy stroke h never sees R = G = 0) or pixel (only black pixels; a 0 channel on a stroke is bin 0)");
  cli.add_switch("g-in-colour-step", &o.game.g_in_colour_step,
                 "in step (2) g also takes an SGD step on its zero gradient (momentum and weight decay), as in "
                 "the official code, whose one optimiser over f and g steps after h's colour loss too");
  cli.add_switch("reuse-baseline", &o.reuse_baseline, "load a finished baseline.safetensors from an earlier run");
  cli.add_switch("resume", &o.resume,
                 "continue each phase from its checkpoint in --out where an earlier run with the same settings "
                 "stopped (its last finished epoch, or the step Ctrl-C stopped it at), exactly: weights, momentum and "
                 "data order; a finished baseline is reused; --lntl-epochs may grow");
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

namespace {

// The per-epoch unbiased accuracies (%) a checkpoint records, so a reused baseline still has its curve.
std::string join_accuracies(const std::vector<float>& acc) {
  std::string s;
  char v[32];
  for (float a : acc) {
    std::snprintf(v, sizeof v, "%s%.4f", s.empty() ? "" : ",", a);
    s += v;
  }
  return s;
}
// Throws on anything but numbers separated by single commas.
std::vector<float> split_accuracies(const std::string& text) {
  std::vector<float> acc;
  for (size_t at = 0; at < text.size();) {
    size_t used = 0;
    acc.push_back(std::stof(text.substr(at), &used));
    at += used;
    if (at < text.size() && text[at++] != ',') throw std::invalid_argument("not a comma list");
  }
  return acc;
}

// A checkpoint's curve and training time, each a one-line error naming the file when unreadable.
std::vector<float> meta_accuracies(std::map<std::string, std::string>& meta, const std::string& path) {
  try {
    return split_accuracies(meta["accuracy_per_epoch"]);
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": unreadable accuracy_per_epoch metadata '" + meta["accuracy_per_epoch"] + "'");
  }
}
double meta_seconds(std::map<std::string, std::string>& meta, const std::string& path) {
  double seconds = 0.0;
  if (!parse_real(meta["seconds"], &seconds) || seconds < 0.0)
    throw std::runtime_error(path + ": unreadable seconds metadata '" + meta["seconds"] + "'");
  return seconds;
}

std::string number_text(double v) {
  char s[32];
  std::snprintf(s, sizeof s, "%.9g", v);
  return s;
}

// A checkpoint's metadata; one written before the palette and the jitter could be chosen was painted with
// the substitute palette and clamped jitter.
std::map<std::string, std::string> checkpoint_meta(const std::string& path) {
  std::map<std::string, std::string> meta;
  load_safetensors(path, &meta);
  meta.emplace("palette", "substitute");
  meta.emplace("jitter", "clamp");
  return meta;
}

// The settings that make the training data (within one variance's folder): a checkpoint trained on other
// data is neither resumed nor reused.
std::map<std::string, std::string> data_settings(const LntlOptions& o) {
  return {{"seed", std::to_string(o.seed)}, {"train_images", std::to_string(o.train_images)},
          {"stroke", o.stroke}, {"palette", o.palette}, {"jitter", o.jitter}};
}

// The first of settings that meta (checkpoint_meta) records otherwise, or "" when it records them all.
std::string first_mismatch(std::map<std::string, std::string>& meta, const std::map<std::string, std::string>& settings) {
  for (const auto& [key, value] : settings)
    if (meta[key] != value) return key;
  return "";
}

// What a phase's checkpoint must have been trained with for --resume to continue it: the data, and
// every setting the phase's steps read (--epochs / --lntl-epochs excepted: a phase may be lengthened).
std::map<std::string, std::string> phase_settings(const LntlPhase& ph, const LntlOptions& o, float var) {
  std::map<std::string, std::string> s = data_settings(o);
  s.insert({{"phase", ph.name}, {"var", var_text(var)}, {"lr", std::to_string(ph.lr)},
            {"batch", std::to_string(o.batch)}, {"lr_step", std::to_string(o.lr_step)}, {"lr_gamma", number_text(o.lr_gamma)},
            {"momentum", number_text(o.momentum)}, {"weight_decay", number_text(o.weight_decay)}});
  if (ph.adversarial) {
    s["lambda"] = number_text(o.game.lambda);
    s["mu"] = number_text(o.game.mu);
    s["h_lr_scale"] = number_text(o.game.h_lr_scale);
    s["g_in_colour_step"] = o.game.g_in_colour_step ? "1" : "0";
    s["h_mask"] = o.h_mask;
  }
  return s;
}

// Where an earlier run of this phase stopped: finished epochs, steps into the next, seconds trained.
struct PhaseStart {
  int epochs = 0, steps = 0;
  double seconds = 0.0;
};

int64_t meta_integer(std::map<std::string, std::string>& meta, const std::string& key, const std::string& path) {
  int64_t v = 0;
  if (!parse_integer(meta[key], &v) || v < 0)
    throw std::runtime_error(path + ": unreadable " + key + " metadata '" + meta[key] + "'");
  return v;
}

// --resume: when ckpt holds an earlier run of this phase, loads its weights, momentum and curve and moves
// the trainer's data order to where that run's stood. A checkpoint trained with other settings is an
// error (silently starting over would overwrite it); one written before checkpoints were resumable
// starts the phase over, saying so.
PhaseStart resume_phase(const Backend& be, LntlNets& nets, LntlTrainer& trainer, const std::string& ckpt,
                        const LntlPhase& ph, const LntlOptions& o, float var, std::vector<float>& accuracy_per_epoch) {
  PhaseStart from;
  if (!std::filesystem::exists(ckpt)) return from;
  std::map<std::string, std::string> meta = checkpoint_meta(ckpt);
  if (!meta.count("data_batches")) {
    std::printf("%s: written before checkpoints could be resumed; the %s phase starts over\n", ckpt.c_str(), ph.name.c_str());
    return from;
  }
  std::map<std::string, std::string> settings = phase_settings(ph, o, var);
  if (const std::string key = first_mismatch(meta, settings); !key.empty())
    throw std::runtime_error(ckpt + ": cannot --resume: written with " + key + " " + meta[key] + ", this run has " +
                             settings[key] + " (remove the file or drop --resume)");
  from.epochs = static_cast<int>(meta_integer(meta, "epochs", ckpt));
  from.steps = static_cast<int>(meta_integer(meta, "steps_in_epoch", ckpt));
  if (from.epochs > ph.epochs || (from.epochs == ph.epochs && from.steps > 0))
    throw std::runtime_error(ckpt + ": cannot --resume: it is past the " + std::to_string(ph.epochs) + " epochs this run asks for");
  const int64_t skip = meta_integer(meta, "data_batches", ckpt) - trainer.batches_drawn();
  if (skip < 0) throw std::runtime_error(ckpt + ": cannot --resume: its data order is behind this run's");
  from.seconds = meta_seconds(meta, ckpt);
  accuracy_per_epoch = meta_accuracies(meta, ckpt);
  nets.load(be, ckpt, ph.adversarial);
  nets.load_momentum(be, ckpt, ph.adversarial);
  trainer.skip_batches(skip);
  std::printf("%s: resuming from %s after %d epochs + %d steps\n", ph.name.c_str(), ckpt.c_str(), from.epochs, from.steps);
  return from;
}

// The accuracy (%) of each true digit (row) x column cell as a heatmap at png (map brings its titles and
// column labels), and the counts behind it, which the map rounds, beside it with .csv for .png:
// digit,<column>,images,correct, one row per cell, digit-major. images and correct: 10 x columns.size().
void write_digit_accuracy_map(const std::string& png, const std::string& column, const std::vector<int>& columns,
                              const std::vector<float>& images, const std::vector<float>& correct, Heatmap map) {
  const int cols = static_cast<int>(columns.size());
  CsvLog cells(png.substr(0, png.rfind('.')) + ".csv", "digit," + column + ",images,correct");
  map.rows = 10;
  map.cols = cols;
  map.values.assign(10 * cols, 0.0f);
  for (int c = 0; c < 10 * cols; ++c) {
    cells.row(c / cols, columns[c % cols], images[c], correct[c]);
    if (images[c] > 0) map.values[c] = std::round(100.0f * correct[c] / images[c]);
  }
  map.ylabel = "true digit";
  write_heatmap(png, map);
}

}  // namespace

LntlScore evaluate_lntl(const Backend& be, LntlNets& nets, const ColoredMnist& test, const std::string& png,
                        const std::string& title, const std::string& colour_png) {
  const std::vector<int> pred = predict_digits(be, nets, test);
  Heatmap h;
  h.rows = h.cols = 10;
  h.values.assign(100, 0.0f);
  std::vector<float> painted(100, 0.0f), correct(100, 0.0f);  // per true digit x painted colour
  LntlScore s;
  for (int i = 0; i < test.count; ++i) {
    const int cell = test.labels[i] * 10 + test.colours[i];
    const bool right = pred[i] == test.labels[i];
    h.values[test.labels[i] * 10 + pred[i]] += 1.0f;
    painted[cell] += 1.0f;
    correct[cell] += right;
    s.accuracy += right;
    s.colour_agreement += pred[i] == test.colours[i];
  }
  s.accuracy /= test.count;
  s.colour_agreement /= test.count;
  char t[160];
  std::snprintf(t, sizeof t, "%s: accuracy %.2f %%", title.c_str(), 100.0 * s.accuracy);
  if (!png.empty()) {
    h.title = t;
    h.xlabel = "predicted digit";
    h.ylabel = "true digit";
    write_heatmap(png, h);
  }
  if (!colour_png.empty()) {
    Heatmap by_colour;
    by_colour.title = title + ": accuracy (%) per cell";
    by_colour.xlabel = "painted colour (its class)";
    write_digit_accuracy_map(colour_png, "colour", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, painted, correct, by_colour);
  }
  return s;
}

void write_gray_probe(const Backend& be, LntlNets& nets, const Dataset& test_gray, ColoredMnist::Stroke stroke,
                      const std::string& png, const std::string& title) {
  constexpr int kLevels = static_cast<int>(std::size(kGrayLevels));
  const std::vector<int> levels(std::begin(kGrayLevels), std::end(kGrayLevels));
  std::vector<float> images(10 * kLevels, 0.0f), correct(10 * kLevels, 0.0f);  // per true digit x level
  Heatmap map;
  for (int l = 0; l < kLevels; ++l) {
    const float v = static_cast<float>(levels[l]) / 255.0f;
    const ColoredMnist probe = paint_one_colour(test_gray, {v, v, v}, stroke);
    const std::vector<int> pred = predict_digits(be, nets, probe);
    for (int i = 0; i < probe.count; ++i) {
      images[probe.labels[i] * kLevels + l] += 1.0f;
      correct[probe.labels[i] * kLevels + l] += pred[i] == probe.labels[i];
    }
    map.col_labels.push_back(std::to_string(levels[l]));
  }
  map.title = title + ": gray strokes";  // longer titles overflow the 8-column map
  map.xlabel = "stroke gray (8-bit), cells: % right";  // the font has no semicolon
  write_digit_accuracy_map(png, "level", levels, images, correct, map);
}

bool train_lntl_phase(Backend& be, LntlNets& nets, LntlTrainer& trainer, const ColoredMnist& test,
                      const LntlPhase& ph, const LntlOptions& o, const std::string& dir, float var, CsvLog& log,
                      std::vector<float>& accuracy_per_epoch, double& seconds) {
  LntlEpochPlan plan;
  plan.adversarial = ph.adversarial;
  plan.opt.momentum = o.momentum;
  plan.opt.weight_decay = o.weight_decay;
  plan.game = o.game;
  const std::string ckpt = dir + "/" + ph.name + ".safetensors";
  const Timer phase_timer;
  const PhaseStart from = o.resume && ph.resumable ? resume_phase(be, nets, trainer, ckpt, ph, o, var, accuracy_per_epoch)
                                                   : PhaseStart{};
  // steps_in_epoch > 0 (or partial): the weights are those after that many steps of epoch epochs_done + 1.
  auto save = [&](int epochs_done, int steps_in_epoch, bool partial) {
    std::map<std::string, std::string> meta = phase_settings(ph, o, var);
    meta["epochs"] = std::to_string(epochs_done);
    meta["steps_in_epoch"] = std::to_string(steps_in_epoch);
    meta["data_batches"] = std::to_string(trainer.batches_drawn());
    meta["accuracy_per_epoch"] = join_accuracies(accuracy_per_epoch);
    meta["seconds"] = std::to_string(from.seconds + phase_timer.seconds());
    if (partial) meta["interrupted"] = "1";
    nets.save(be, ckpt, ph.adversarial, meta);
  };
  const StepDecay lr(ph.lr, o.lr_step, o.lr_step, o.lr_gamma);
  const int per_epoch = trainer.steps_per_epoch();
  Progress progress(ph.name + " var " + var_text(var),
                    static_cast<int64_t>(ph.epochs - from.epochs) * per_epoch - from.steps);
  int64_t step = 0;
  for (int epoch = from.epochs + 1; epoch <= ph.epochs; ++epoch) {
    plan.opt.lr = lr.at(epoch);
    const int first_step = epoch == from.epochs + 1 ? from.steps : 0;
    Timer timer;
    const LntlEpochLosses sums = trainer.run_epoch(be, nets, plan, [&](const LntlEpochLosses& so_far) {
      const LntlEpochLosses m = so_far.mean();
      char line[128];
      const int len = std::snprintf(line, sizeof line, "epoch %d/%d | ce %.4f", epoch, ph.epochs, m.ce);
      if (ph.adversarial) std::snprintf(line + len, sizeof line - len, " | colour ce %.4f", m.colour_ce);
      progress.update(++step, line);
      return !interrupted();
    }, first_step);
    if (first_step + sums.steps < per_epoch) {
      progress.finish("interrupted");
      save(epoch - 1, first_step + sums.steps, true);
      std::printf("interrupted: saved %s (partial epoch %d; --resume continues it)\n", ckpt.c_str(), epoch);
      return false;
    }
    const LntlEpochLosses m = sums.mean();
    const double seconds = timer.seconds();
    const std::string kept = epoch > 1 ? "the checkpoint of epoch " + std::to_string(epoch - 1) + " is kept"
                                       : std::string("no checkpoint was written");
    require_finite(m.ce + m.neg_entropy + m.colour_ce, "the " + ph.name + " training loss", "epoch " + std::to_string(epoch), kept);
    const LntlScore score = evaluate_lntl(be, nets, test);
    std::fprintf(stderr, "\n%s epoch %d: ce %.4f, colour ce %.4f, lambda x neg. entropy %.4f, unbiased test accuracy "
                 "%.2f %% (%.0f s)\n", ph.name.c_str(), epoch, m.ce, m.colour_ce, m.neg_entropy, 100.0 * score.accuracy,
                 seconds);
    log.row(var_text(var), ph.name, epoch, plan.opt.lr, m.ce, m.neg_entropy, m.colour_ce, score.accuracy, seconds);
    accuracy_per_epoch.push_back(static_cast<float>(100.0 * score.accuracy));
    save(epoch, 0, false);
  }
  progress.finish("");
  seconds = from.seconds + phase_timer.seconds();
  return true;
}

void write_lntl_curves(const std::string& path, const std::string& var, const std::vector<float>& baseline,
                       const std::vector<float>& lntl) {
  LinePlot plot;
  plot.title = "Colored MNIST var " + var + ": unbiased test accuracy per epoch";
  plot.xlabel = "epoch (baseline, then LNTL from the baseline's weights)";
  plot.ylabel = "unbiased test accuracy (%)";
  plot.vlines = {static_cast<float>(baseline.size()) + 0.5f};
  const std::vector<float>* curves[2] = {&baseline, &lntl};
  const char* labels[2] = {"baseline", "LNTL"};
  for (int k = 0, first = 1; k < 2; first += static_cast<int>(curves[k]->size()), ++k) {
    Series s;
    s.label = labels[k];
    for (size_t e = 0; e < curves[k]->size(); ++e) {
      s.x.push_back(static_cast<float>(first + static_cast<int>(e)));
      s.y.push_back((*curves[k])[e]);
    }
    plot.series.push_back(s);
  }
  write_line_plot(path, plot);
}

bool load_finished_baseline(const Backend& be, LntlNets& nets, const std::string& path, const LntlOptions& o,
                            std::vector<float>& accuracy_per_epoch, double& seconds) {
  if (!(o.reuse_baseline || o.resume) || !std::filesystem::exists(path)) return false;
  std::map<std::string, std::string> meta = checkpoint_meta(path);
  if (meta.count("interrupted") || meta["epochs"] != std::to_string(o.epochs) || !first_mismatch(meta, data_settings(o)).empty())
    return false;
  nets.load(be, path, false);
  accuracy_per_epoch = meta_accuracies(meta, path);  // empty for checkpoints that predate it
  // Not recorded by checkpoints written before 2026-12-01 06:30.
  seconds = meta.count("seconds") ? meta_seconds(meta, path) : std::numeric_limits<double>::quiet_NaN();
  std::printf("baseline: reusing %s\n", path.c_str());
  return true;
}
