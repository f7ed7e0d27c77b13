// The lntl driver's study: its settings (the flags, also readable from a config file), the biased
// training set's sample grids, the unbiased test score with its confusion matrix, and one training
// phase (baseline or LNTL) with a checkpoint and a train_log.csv row after every epoch.
#pragma once
#include <string>
#include <vector>

#include "engine/cli.h"
#include "engine/run/csv_log.h"
#include "experiments/lntl/lntl_train.h"

struct LntlOptions {
  std::string vars = "0.035";
  std::string stroke = "binary";  // the Colored MNIST painting (models/colored_mnist.h)
  std::string palette = "substitute";  // the classes' mean colours (models/colored_mnist.h)
  std::string jitter = "clamp";  // how a jittered colour stays in [0, 1] (models/colored_mnist.h)
  std::string h_mask = "channel";  // which colour labels h ignores: channel (official) or pixel
  int train_images = 60000, epochs = 100, lntl_epochs = 100, batch = 128, lr_step = 40;
  float lr = 0.01f, lntl_lr = 0.001f, lr_gamma = 0.1f, momentum = 0.9f, weight_decay = 5e-4f;
  LntlGame game;
  int64_t seed = 0;  // bound to the driver's --seed
  bool reuse_baseline = false;
  bool resume = false;
};

// The study's own flags on a Cli bound to o (the command line's and the config file's).
void add_lntl_flags(Cli& cli, LntlOptions& o);

// "0.02,0.035" -> {0.02, 0.035}; throws a one-line --var error for anything else.
std::vector<float> parse_vars(const std::string& s);
// A variance as its folder and table name: "0.035".
std::string var_text(float var);

// Ten images of each digit, a row per digit: the training grid shows one colour per row, the test
// grid shows colours that ignore the row.
void write_samples(const std::string& path, const ColoredMnist& d);

struct LntlScore {
  double accuracy = 0, colour_agreement = 0;  // predicted == label, predicted == the painted colour's class
};
// Scores the test set; when png is not empty also writes its confusion matrix there, and when colour_png
// is not empty the accuracy (%) of each true digit x painted colour class (the counts beside it, same
// name with .csv): the diagonal is the biased case (colour = the digit's own), a weak column a colour
// the model fails on whatever the digit.
LntlScore evaluate_lntl(const Backend& be, LntlNets& nets, const ColoredMnist& test, const std::string& png = "",
                        const std::string& title = "", const std::string& colour_png = "");

// The gray probe: every test digit painted one achromatic level at a time (kGrayLevels, dark to white,
// no jitter); writes the accuracy (%) of each true digit x level to png and its counts to the same name
// with .csv (digit,level,images,correct). A net that reads shapes reads every level alike; one that ties
// a digit to its training colour's brightness (the substitute palette paints 7s navy, 8s and 9s nearly
// white) fails that digit at the levels its colour is not.
inline constexpr int kGrayLevels[] = {32, 64, 96, 128, 160, 192, 224, 255};
void write_gray_probe(const Backend& be, LntlNets& nets, const Dataset& test_gray, ColoredMnist::Stroke stroke,
                      const std::string& png, const std::string& title);

struct LntlPhase {
  std::string name;  // "baseline" or "lntl"
  int epochs;
  float lr;
  bool adversarial;
  bool resumable = true;  // --resume may continue its checkpoint (the driver clears it when that would be stale)
};

// The train_log.csv columns, one row per epoch of either phase.
inline constexpr const char* kLntlLogHeader = "var,phase,epoch,lr,ce,lambda_neg_entropy,colour_ce,test_accuracy,seconds";

// Trains one phase into dir/<phase>.safetensors, checkpointing after every epoch and appending the
// epoch's unbiased test accuracy to accuracy_per_epoch, and the phase's training time to seconds (an
// earlier run's included when it resumed one). With o.resume (and ph.resumable) it first continues
// that checkpoint where an earlier run with the same settings stopped. Returns false when
// SIGINT/SIGTERM stopped it (the checkpoint then holds the partial epoch, marked interrupted, with the
// step it reached); a non-finite epoch loss throws RunError(kExitDiverged) before that epoch's weights
// are saved.
bool train_lntl_phase(Backend& be, LntlNets& nets, LntlTrainer& trainer, const ColoredMnist& test,
                      const LntlPhase& ph, const LntlOptions& o, const std::string& dir, float var, CsvLog& log,
                      std::vector<float>& accuracy_per_epoch, double& seconds);

// The learning curves: unbiased test accuracy (%) per epoch, the baseline's epochs first, LNTL's
// continuing from them (it starts from the baseline's weights), a dashed line at the switch.
void write_lntl_curves(const std::string& path, const std::string& var, const std::vector<float>& baseline,
                       const std::vector<float>& lntl);

// A finished baseline from an earlier run with the same data settings, when --reuse-baseline asks for it;
// accuracy_per_epoch gets the curve its checkpoint records (none for checkpoints written before 2026-12-01),
// seconds the wall time its training took (NaN where the checkpoint predates that record).
bool load_finished_baseline(const Backend& be, LntlNets& nets, const std::string& path, const LntlOptions& o,
                            std::vector<float>& accuracy_per_epoch, double& seconds);
