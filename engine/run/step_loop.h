// The training loop of the step-counted drivers: steps 1..steps (or fewer, when a convergence rule says
// the run is done), a report (CSV row + progress line) every log_every steps and at the last, a
// checkpoint every ckpt_every steps, at the end and on
// interruption (SIGINT/SIGTERM: the current step finishes first), and the NaN/Inf guard: a non-finite
// reported loss, or non-finite weights about to be saved, stop the run with RunError(kExitDiverged)
// naming the step; nothing is saved then, so the last good checkpoint stays on disk.
#pragma once
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "engine/backend.h"

struct StepReport {
  double loss = 0;   // checked by the guard (a sum of step losses: one bad step poisons it)
  std::string text;  // the progress line's metrics, such as "loss 123.4"
};

struct StepLoop {
  std::string label;      // the progress line's label, usually the program
  FILE* progress = stderr;  // where the progress line goes
  int64_t steps = 0, log_every = 100;
  int64_t ckpt_every = 0;  // 0: checkpoints only at the end (and on interruption)
  std::function<void(int64_t step)> step;          // one optimisation step; steps count from 1
  std::function<StepReport(int64_t step)> report;  // reads the metrics since the last report and logs them
  std::function<void(int64_t step, bool interrupted)> save;  // writes the checkpoint
  std::function<bool()> weights_finite;                      // checked before every save; may be empty
  std::function<bool(int64_t step)> finished;  // after each step; true ends the run, complete. May be empty.
};

struct StepLoopEnd {
  int64_t steps = 0;         // steps done
  bool interrupted = false;  // stopped by SIGINT/SIGTERM (the last checkpoint is marked so)
};

StepLoopEnd run_steps(const StepLoop& loop);

// Throws RunError(kExitDiverged) "<what> is non-finite (<value>) at <where>; <kept>" unless value is
// finite. where: "step 120", "epoch 3"; kept says which checkpoint survives.
void require_finite(double value, const std::string& what, const std::string& where, const std::string& kept);
// Whether all n values at dev are finite (one host copy).
bool all_finite(const Backend& be, const float* dev, size_t n);
