#include "engine/batcher.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "engine/ops/concat.h"

Batcher::Batcher(const Backend& be, const Dataset& d, int n_class, int batch, uint64_t seed)
    : count_(d.count), dim_(d.dim()), n_class_(n_class), batch_(batch),
      images_(be, d.images.size()), onehots_(be, static_cast<size_t>(d.count) * n_class),
      idx_(be, batch), batch_labels_(be, batch),
      x_(be, static_cast<size_t>(batch) * d.dim()), c_(be, static_cast<size_t>(batch) * n_class),
      order_(d.count), host_labels_(d.labels), host_batch_labels_(batch), cursor_(d.count), rng_(seed) {
  if (d.count < batch) throw std::runtime_error("dataset has fewer samples than one batch");
  images_.upload(be, d.images);
  Buffer<int> labels(be, d.labels.size());
  labels.upload(be, d.labels);
  onehot(be, labels.data(), d.count, n_class, onehots_.data());
  std::iota(order_.begin(), order_.end(), 0);
}

void Batcher::next(const Backend& be) {
  // Drop the ragged tail of an epoch so every batch has the same size.
  if (cursor_ + batch_ > order_.size()) {
    std::shuffle(order_.begin(), order_.end(), rng_);
    cursor_ = 0;
    ++epoch_;
  }
  copy_in(be, idx_.data(), order_.data() + cursor_, sizeof(int) * batch_);
  cursor_ += batch_;
  gather_rows(be, images_.data(), dim_, idx_.data(), batch_, x_.data());
  gather_rows(be, onehots_.data(), n_class_, idx_.data(), batch_, c_.data());
  for (int i = 0; i < batch_; ++i) host_batch_labels_[i] = host_labels_[order_[cursor_ - batch_ + i]];
  batch_labels_.upload(be, host_batch_labels_);
}
