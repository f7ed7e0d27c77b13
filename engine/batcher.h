// A labelled dataset resident on the device, served as shuffled mini-batches (reshuffled each epoch
// from a seeded generator, so the order is the same on every device).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "engine/buffer.h"
#include "engine/idx.h"

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
  int epoch() const { return epoch_; }

 private:
  int count_, dim_, n_class_, batch_;
  Buffer<float> images_, onehots_;
  Buffer<int> idx_, batch_labels_;
  Buffer<float> x_, c_;
  std::vector<int> order_, host_labels_, host_batch_labels_;
  size_t cursor_ = 0;
  int epoch_ = 0;
  std::mt19937_64 rng_;
};
