// The epoch loop shared by the lntl driver and the tests: shuffled mini-batches of a Colored MNIST set
// (engine/batcher's EpochOrder: a fresh seeded order each epoch, the ragged tail dropped), each fed to a
// baseline or an LNTL step.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/batcher.h"
#include "models/lntl.h"

struct LntlEpochPlan {
  bool adversarial = false;  // false: baseline steps (f+g on CE); true: the two LNTL steps
  SgdHyper opt;
  LntlGame game;
};

// Sums over the steps done so far; mean() divides by them.
struct LntlEpochLosses {
  double ce = 0, neg_entropy = 0, colour_ce = 0;
  int steps = 0;
  LntlEpochLosses mean() const;
};

class LntlTrainer {
 public:
  LntlTrainer(const Backend& be, const ColoredMnist& d, int batch, uint64_t seed);
  int steps_per_epoch() const { return order_.batches_per_epoch(); }
  // Batches drawn from the data order so far, and drawing n without training on them: a fresh trainer
  // (same data, batch and seed) that skips what an earlier one drew continues its order exactly.
  int64_t batches_drawn() const { return drawn_; }
  void skip_batches(int64_t n);
  // One epoch, from its step first_step (0, or where an interrupted epoch stopped). after_step(sums so
  // far) runs after every step; returning false ends the epoch early (Ctrl-C), so a caller tells a
  // finished epoch by first_step + sums.steps == steps_per_epoch().
  LntlEpochLosses run_epoch(Backend& be, LntlNets& nets, const LntlEpochPlan& plan,
                            const std::function<bool(const LntlEpochLosses&)>& after_step, int first_step = 0);

 private:
  const ColoredMnist& d_;
  int batch_;
  EpochOrder order_;
  int64_t drawn_ = 0;
  std::vector<int> host_labels_, host_bins_;
  std::vector<float> host_x_, host_losses_;
  Buffer<float> x_, losses_;  // losses_: ce | neg_entropy | colour_ce of the current step
  Buffer<int> labels_, bins_;
};
