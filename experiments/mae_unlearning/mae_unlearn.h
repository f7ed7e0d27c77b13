// Evidence unlearning with the MAE (reference 002), as defined here (the reference text leaves it open):
//
// Sets. The training split is divided by digit into the LEARN set (every digit not in `forget`) and the
// FORGET set (the `forget` digits); a held-out validation split is divided the same way.
//
// Schedule.
//   warm-up   `warmup_epochs` passes of pure learning over the whole training split (all ten digits), so
//             the model starts out knowing the digits it will have to forget. This is the "before" model.
//   epochs    each unlearning epoch is a LEARN phase (one pass over the learn set) followed by an UNLEARN
//             phase (one pass over the forget set): filtered training alternating with forgetting.
// Objectives (per image, averaged over the batch; see models/mae.h):
//   learn     L_learn(x, y) = BCE(reconstruction, x) + q_weight * CE(Q(code), y)
//             on learn-set batches (all digits in the warm-up); steps the autoencoder and Q.
//   unlearn   BCE(reconstruction, gray 0.5) + unlearn_q_weight * sum_j p_j log p_j on a forget batch,
//             plus L_learn on a learn batch of the same size (the retain term); steps the autoencoder only.
// Unlearning is maximum entropy on both of the model's outputs for the forget digits: flat gray 0.5 is
// the most uncertain Bernoulli picture (every pixel a coin flip) and a uniform Q the most uncertain digit
// guess (entropy ln 10). The retain term is needed: without it one pass of forgetting turned every digit
// gray (measured on MNIST: validation learn BCE 67 -> 530 nats in the first unlearn phase). Q is not stepped
// while unlearning: it is the evidence detector, trained only by learning, and the encoder must hide the
// evidence from it (a Q that could flatten itself would hide nothing). With `unlearn` false the UNLEARN
// phase is skipped: filtered training alone, the control.
//
// Validation after every phase: per-image means over the validation learn / forget images of the
// reconstruction BCE against the image itself (nats per image; lower = better reconstruction), Q accuracy,
// and Q's mean entropy on the forget images. The model a fully successful unlearning aims at outputs flat
// gray for forget images, whose BCE against any image is 784 ln 2 = 543.4 nats (kGrayBce). The score of an
// evaluation is
//   score = learn BCE + max(0, kGrayBce - forget BCE)        (lower is better)
// i.e. the learn set's reconstruction error plus the forget set's shortfall from full forgetting, both in
// nats per image, with no weight to tune (a model that turns every digit gray scores about kGrayBce, no
// better than the model before unlearning). The best-validation checkpoint is the unlearning epoch (end
// of its UNLEARN phase; of its LEARN phase in the control) with the lowest score.
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "engine/idx.h"
#include "engine/run/csv_log.h"
#include "engine/run/study_hooks.h"
#include "models/mae.h"

// BCE of the flat 0.5 picture against any 784-pixel image: 784 ln 2.
inline const float kGrayBce = static_cast<float>(Mae::kPixels * std::log(2.0));

struct MaeStudyConfig {
  std::vector<int> forget = {3};
  int batch = 128, warmup_epochs = 2, epochs = 4;
  float lr = 1e-3f;
  // Q's terms are ~2 nats per image against a reconstruction BCE of ~70-500, so they get weights that
  // give them a say in the encoder's gradient. Set from five 4-epoch MNIST pilots (q, unlearn) = (1, 1),
  // (1, 10), (1, 50), (10, 10), (10, 50): the last took Q's validation accuracy on the forget digit from
  // 92 % to 0.8 % (forget-Q entropy 1.94 nats; with (1, 1): 70 %, 0.77 nats).
  float q_weight = 10.0f;          // Q cross-entropy weight while learning
  float unlearn_q_weight = 50.0f;  // Q negative-entropy weight while unlearning
  bool unlearn = true;             // false: the control, learning phases only
  uint64_t seed = 0;               // data order (the model's initialisation is the caller's)
};

// Validation scores (see the header comment).
struct MaeScores {
  float learn_bce = 0, forget_bce = 0;      // nats per image
  float learn_q_acc = 0, forget_q_acc = 0;  // fractions
  float forget_q_entropy = 0;               // nats (ln 10 = 2.303: no evidence left)
  float score = 0;
};

// One evaluation, made after every phase.
struct MaeEval {
  int epoch = 0;       // counted from 1 over warm-up and unlearning epochs together
  std::string phase;   // "warmup", "learn" or "unlearn"
  int steps = 0;       // optimisation steps in the phase
  // The phase's mean training losses per image (unweighted; see MaeLosses): learning's BCE and Q
  // cross-entropy, or unlearning's BCE to gray and Q negative entropy on the forget batches.
  float train_recon = 0, train_q = 0;
  double seconds = 0;  // wall time of the phase's steps
  MaeScores val;
  bool best = false;   // set on the unlearning epoch's evaluation that became the new best checkpoint
};

// What a driver watches: each evaluation; the model at stage "before" (after the warm-up) and "best"
// (each new best); after every step, done of mae_total_steps() and a status line.
using MaeHooks = StudyHooks<MaeEval, const Mae>;

struct MaeResult {
  std::vector<MaeEval> evals;
  MaeEval before, best, last;  // before: the last warm-up evaluation; best: see above; last: the last one made
  bool has_best = false, complete = false;
};

// Steps of the whole study for training-set sizes: per epoch count / batch steps (the ragged tail dropped).
int mae_total_steps(const MaeStudyConfig& cfg, int all, int learn, int forget);

// Trains `model` in place through the whole schedule (one Adam for the autoencoder, one for Q, kept over
// all phases). train and val: labelled 28x28 sets. Throws std::invalid_argument when warmup_epochs < 1,
// when train (or its learn or forget part) is smaller than one batch, or when val lacks learn or forget
// images.
MaeResult run_mae_study(const Backend& be, Mae& model, const MaeStudyConfig& cfg, const Dataset& train,
                        const Dataset& val, const MaeHooks& hooks);

// Scores of every image of d: reconstruction BCE against itself, Q's guess and Q's entropy.
struct MaeImageScore {
  float bce = 0;
  int q_guess = 0;
  float q_entropy = 0;
};
std::vector<MaeImageScore> score_images(const Backend& be, Mae& model, const Dataset& d);
// The validation scores of d split by `forget`.
MaeScores evaluate_mae(const Backend& be, Mae& model, const Dataset& d, const std::vector<int>& forget);

// Per-digit means over d (count 0 leaves a row at zeros).
struct MaeDigitScores {
  int count = 0;
  float bce = 0, q_acc = 0, q_entropy = 0;
};
std::vector<MaeDigitScores> per_digit_scores(const std::vector<MaeImageScore>& s, const Dataset& d);

// metrics.csv: one row per MaeEval (4 decimals, seconds 2).
inline constexpr const char* kMaeCsvHeader =
    "epoch,phase,steps,train_recon,train_q,val_learn_bce,val_forget_bce,val_learn_q_acc,val_forget_q_acc,"
    "val_forget_q_entropy,score,best,seconds";
void log_mae_eval(CsvLog& csv, const MaeEval& e);
// The evaluation as one line for the console: "epoch 3 unlearn: train recon ... | score 71.20 (best) (4.1 s)".
std::string mae_eval_text(const MaeEval& e);

// Validation BCE of the learn and forget digits against the epoch (learn-phase points half an epoch
// early), the gray level kGrayBce as a reference line, and a dashed line where the warm-up ends.
void write_mae_plot(const std::string& path, const MaeResult& r, const MaeStudyConfig& cfg);
// Rows = digits 0..9 of d: `per_digit` originals, then their reconstructions by each model in order.
void write_mae_grid(const Backend& be, const std::vector<Mae*>& models, const Dataset& d, int per_digit,
                    const std::string& path);
// summary.md body: the settings, the before / best validation scores and a per-digit table of d's
// reconstruction BCE and Q accuracy before and after.
std::string mae_summary_markdown(const MaeStudyConfig& cfg, const MaeResult& r,
                                 const std::vector<MaeDigitScores>& before, const std::vector<MaeDigitScores>& after,
                                 const std::string& split_name);
