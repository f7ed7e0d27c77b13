#include "engine/batcher.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "engine/ops/concat.h"

EpochOrder::EpochOrder(int count, int batch, uint64_t seed)
    : batch_(batch), order_(count), cursor_(count), rng_(seed) {
  if (batch < 1 || count < batch) throw std::runtime_error("dataset has fewer samples than one batch");
  std::iota(order_.begin(), order_.end(), 0);
}

const int* EpochOrder::next() {
  if (cursor_ + batch_ > order_.size()) {
    std::shuffle(order_.begin(), order_.end(), rng_);
    cursor_ = 0;
    ++epoch_;
  }
  cursor_ += batch_;
  return order_.data() + cursor_ - batch_;
}

Batcher::Batcher(const Backend& be, const Dataset& d, int n_class, int batch, uint64_t seed)
    : dim_(d.dim()), n_class_(n_class), batch_(batch),
      images_(be, d.images.size()), onehots_(be, static_cast<size_t>(d.count) * n_class),
      idx_(be, batch), batch_labels_(be, batch),
      x_(be, static_cast<size_t>(batch) * d.dim()), c_(be, static_cast<size_t>(batch) * n_class),
      order_(d.count, batch, seed), host_labels_(d.labels), host_batch_labels_(batch) {
  images_.upload(be, d.images);
  Buffer<int> labels(be, d.labels.size());
  labels.upload(be, d.labels);
  onehot(be, labels.data(), d.count, n_class, onehots_.data());
}

void Batcher::next(const Backend& be) {
  const int* idx = order_.next();
  upload_.copy(be, idx_.data(), idx, sizeof(int) * batch_);
  gather_rows(be, images_.data(), dim_, idx_.data(), batch_, x_.data());
  gather_rows(be, onehots_.data(), n_class_, idx_.data(), batch_, c_.data());
  for (int i = 0; i < batch_; ++i) host_batch_labels_[i] = host_labels_[idx[i]];
  upload_.copy(be, batch_labels_.data(), host_batch_labels_.data(), sizeof(int) * batch_);
}
