#include "experiments/lntl/lntl_train.h"


LntlEpochLosses LntlEpochLosses::mean() const {
  const double k = steps > 0 ? 1.0 / steps : 0.0;
  return LntlEpochLosses{ce * k, neg_entropy * k, colour_ce * k, steps};
}

LntlTrainer::LntlTrainer(const Backend& be, const ColoredMnist& d, int batch, uint64_t seed)
    : d_(d), batch_(batch), order_(d.count, batch, seed), host_losses_(3) {
  const size_t bins = static_cast<size_t>(batch) * ColoredMnist::kChannels * ColoredMnist::kBinPixels;
  host_x_.resize(static_cast<size_t>(batch) * ColoredMnist::kDim);
  host_labels_.resize(batch);
  host_bins_.resize(bins);
  x_ = Buffer<float>(be, host_x_.size());
  labels_ = Buffer<int>(be, batch);
  bins_ = Buffer<int>(be, bins);
  losses_ = Buffer<float>(be, 3);
}

void LntlTrainer::skip_batches(int64_t n) {
  for (int64_t i = 0; i < n; ++i) order_.next();
  drawn_ += n;
}

LntlEpochLosses LntlTrainer::run_epoch(Backend& be, LntlNets& nets, const LntlEpochPlan& plan,
                                       const std::function<bool(const LntlEpochLosses&)>& after_step, int first_step) {
  LntlEpochLosses sums;
  float* l = losses_.data();
  const LntlLosses dev{l, l + 1, l + 2};
  for (int s = first_step; s < steps_per_epoch(); ++s) {
    const ColourBinCounts valid = gather_batch(d_, order_.next(), batch_, host_x_.data(), host_labels_.data(), host_bins_.data());
    ++drawn_;
    x_.upload(be, host_x_);
    labels_.upload(be, host_labels_);
    zero_on(be, l, 3 * sizeof(float));
    if (plan.adversarial) {
      bins_.upload(be, host_bins_);
      nets.lntl_step(be, x_.data(), labels_.data(), bins_.data(), valid, batch_, plan.opt, plan.game, dev);
    } else {
      nets.baseline_step(be, x_.data(), labels_.data(), batch_, plan.opt, dev);
    }
    // Three floats per step: a device sync, negligible next to a step's convolutions.
    copy_out(be, host_losses_.data(), l, 3 * sizeof(float));
    sums.ce += host_losses_[0];
    sums.neg_entropy += host_losses_[1];
    sums.colour_ce += host_losses_[2];
    ++sums.steps;
    if (!after_step(sums)) break;
  }
  return sums;
}
