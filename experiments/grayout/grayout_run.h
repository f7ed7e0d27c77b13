// The gray-out driver's stages: its settings, the plan of stages (one, or one per digit with
// --sequential) and one stage's training (Fisher, GrayOut steps, loss.csv, checkpoints).
#pragma once
#include <string>
#include <vector>

#include "engine/idx.h"
#include "experiments/audit/cvae_audit.h"
#include "experiments/grayout/decoder_attack.h"
#include "models/cvae.h"

struct GrayoutOptions {
  std::string model = "runs/sa_train/cvae.safetensors", digits = "9";
  std::string out, attack_init = "both";  // out: bound to the driver's --out
  bool sequential = false;
  int steps = 5000, batch = 256, fisher_samples = 50000, log_every = 100, ckpt_every = 1000;
  int attack_starts = 64, attack_steps = 500;
  float lr = 1e-4f, lambda = 100.0f, gamma = 1.0f, beta = 1.0f, attack_lr = 0.05f;
  AuditFlags audit;
};

// "9,2" from {9, 2} with sep ",".
std::string join_digits(const std::vector<int>& digits, const char* sep);

// What one stage forgets, where it writes, and what was forgotten before it.
struct GrayoutStage {
  std::vector<int> forget, forgotten_so_far;  // forgotten_so_far includes forget
  std::string dir;
  int index = 0, count = 1;
};

// prior: digits the input checkpoint already forgot (a gray-out or SA checkpoint records them); they stay
// out of the remembered set, or the real-data term would teach them back.
std::vector<GrayoutStage> plan_grayout_stages(const GrayoutOptions& o, const std::vector<int>& digits,
                                              const std::vector<int>& prior);

// Forgets one stage's digits from `model` in place; frozen becomes the stage's starting point (theta*).
// Returns the steps taken (fewer than o.steps when interrupted, the checkpoint then marked interrupted);
// a non-finite loss throws RunError(kExitDiverged) without writing the non-finite weights.
int run_grayout_stage(Backend& be, const GrayoutOptions& o, const GrayoutStage& st, const Dataset& train, Cvae& model,
                      Cvae& frozen);

// --attack-init as the attack's label starts.
std::vector<LabelStart> label_starts(const std::string& choice);

// The digits --model already forgot, checked against --digits: none twice, and not every digit in the end.
std::vector<int> previously_forgotten(const GrayoutOptions& o, const std::vector<int>& digits);
