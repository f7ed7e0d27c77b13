// Catastrophic forgetting of a VAE, MNIST then FashionMNIST, and elastic weight consolidation (EWC)
// as the remedy.
//
// Phase 1 trains the VAE on MNIST. Its weights theta* and the diagonal Fisher F of MNIST's training
// data (per-sample squared gradients of the negative ELBO, averaged) are then kept, and phase 2
// trains on FashionMNIST twice from theta*:
//   plain  the ordinary negative ELBO;
//   ewc    the same plus lambda * sum_i F_i (theta_i - theta*_i)^2 (lambda 0 skips this run).
// Both phase-2 runs draw the same batches and the same noise, so the penalty is their only
// difference. Every eval_every steps both held-out test sets are scored.
#pragma once
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "engine/idx.h"
#include "models/cvae.h"

struct CfConfig {
  int steps_per_phase = 5000, batch = 128;
  float lr = 1e-3f;
  float ewc_lambda = 0.0f;  // 0: no EWC run
  int eval_every = 250;
  int eval_samples = 2000;    // first images of each test set scored per evaluation
  int fisher_samples = 10000;  // first MNIST training images in the Fisher
  uint64_t seed = 0;
};

// The two tasks: MNIST first, FashionMNIST second (tests pass synthetic stand-ins).
struct CfData {
  const Dataset& mnist_train;
  const Dataset& mnist_test;
  const Dataset& fashion_train;
  const Dataset& fashion_test;
};

// Per-image means. recon: BCE of the reconstruction through z = mu (deterministic);
// elbo: the negative ELBO, BCE + KL, with one sampled z per image.
struct VaeScores {
  float recon = 0, elbo = 0;
};

// One evaluation of both test sets.
struct CfPoint {
  int step = 0;     // counted over both phases: phase 1 is steps 1..S, phase 2 is S+1..2S (0 = untrained)
  int phase = 1;
  std::string run;  // "shared" (phase 1, where both runs start), "plain" or "ewc"
  VaeScores mnist, fashion;
};

// What a driver watches. Every hook may be left empty.
struct CfHooks {
  std::function<void(const CfPoint&)> on_eval;  // each evaluation, in step order within a run
  // Each trained model as it is finished: stage "phase1", "plain" or "ewc".
  std::function<void(const std::string& stage, Cvae& model)> on_model;
  // After every step: done of cf_total_steps() steps over the whole study, and a short status line (phase, run,
  // mean training loss and test scores as of the last evaluation; refreshed only then, so no step
  // waits on a device-to-host read).
  std::function<void(int done, int total, const std::string& status)> on_step;
  std::function<bool()> stop;  // polled after every step; true ends the study early
};

struct CfResult {
  std::vector<CfPoint> points;  // every evaluation, in the order made
  CfPoint phase1, plain, ewc;   // the last evaluation of each stage
  bool has_ewc = false;
  bool complete = false;        // false when stop() cut the study short
};

// Training steps over the whole study: one phase 1 and one phase 2 per run.
inline int cf_total_steps(const CfConfig& cfg) { return cfg.steps_per_phase * (cfg.ewc_lambda > 0.0f ? 3 : 2); }

// Runs the whole study for an unconditional model (model_cfg.n_class must be 0).
CfResult run_cf_study(Backend& be, const CvaeConfig& model_cfg, const CfConfig& cfg, const CfData& data,
                      const CfHooks& hooks);

// Scores the first `count` examples of d (all of them when count <= 0 or > d.count). The sampled z of
// the ELBO comes from its own generator seeded with `seed`, so repeated evaluations draw the same
// noise (smooth curves) and evaluating never shifts a training run's random stream.
VaeScores evaluate_vae(const Backend& be, Cvae& model, const Dataset& d, int count, uint64_t seed);

// metrics.csv: one row per CfPoint, flushed as written so a long run can be watched.
class CfCsv {
 public:
  static constexpr const char* kHeader = "step,phase,run,mnist_recon,mnist_elbo,fashion_recon,fashion_elbo";
  explicit CfCsv(const std::string& path);  // truncates and writes the header
  void append(const CfPoint& p);

 private:
  std::string path_;
  std::ofstream out_;
};

// Test reconstruction losses of both datasets against the step, one line per (dataset, run) with the
// shared phase-1 points leading each run, and a dashed line at the phase boundary.
void write_cf_plot(const std::string& path, const CfResult& r, int boundary);
// Two rows: the first n images of d, then their reconstructions through z = mu.
void write_recon_grid(const Backend& be, Cvae& model, const Dataset& d, int n, const std::string& path);
// Markdown table of the stage-final scores, plus the MNIST change over phase 2 for each run.
std::string cf_summary_markdown(const CfResult& r, float ewc_lambda);
