// A labelled dataset resident on the device, served as shuffled mini-batches (reshuffled each epoch
// from a seeded generator, so the order is the same on every device).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "engine/buffer.h"
#include "engine/idx.h"

// The sample order of seeded epochs: a fresh shuffle of 0..count-1 for every epoch, cut into whole
// batches (the ragged tail dropped). Shared by Batcher and by loaders that gather on the host.
class EpochOrder {
 public:
  EpochOrder(int count, int batch, uint64_t seed);
  // The next batch's `batch` indices; starts a new epoch (reshuffles) when the current one is used up.
  const int* next();
  int epoch() const { return epoch_; }
  int batches_per_epoch() const { return static_cast<int>(order_.size()) / batch_; }

 private:
  int batch_;
  std::vector<int> order_;
  size_t cursor_;
  int epoch_ = 0;
  std::mt19937_64 rng_;
};

class Batcher {
 public:
  Batcher(const Backend& be, const Dataset& d, int n_class, int batch, uint64_t seed);
  // Gathers the next batch into x() (batch x dim), c() (batch x n_class one-hot) and labels().
  void next(const Backend& be);
  const float* x() const { return x_.data(); }
  const float* c() const { return c_.data(); }
  const int* labels() const { return batch_labels_.data(); }  // on the device
  const std::vector<int>& host_labels() const { return host_batch_labels_; }
  int batch() const { return batch_; }
  int epoch() const { return order_.epoch(); }

 private:
  int dim_, n_class_, batch_;
  Buffer<float> images_, onehots_;
  Buffer<int> idx_, batch_labels_;
  Buffer<float> x_, c_;
  EpochOrder order_;
  std::vector<int> host_labels_, host_batch_labels_;
  StagedUpload upload_;  // per-step indices and labels, without draining the device
};
