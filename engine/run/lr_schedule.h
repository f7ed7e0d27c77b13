// Step-decay learning-rate schedules, the kind the drivers use: the base rate until unit `first`,
// then multiplied by `factor` once more after `first` and after every `every` further units (steps or
// epochs; every = 0: a single drop). PyTorch's StepLR stepped per epoch is StepDecay(lr, n, n, gamma);
// one drop after step k is StepDecay(lr, k, 0, factor); first = 0 never drops.
#pragma once
#include <cmath>

class StepDecay {
 public:
  StepDecay(float base, int first, int every, float factor)
      : base_(base), first_(first), every_(every), factor_(factor) {}
  // The rate of unit u (counted from 1): base * factor^drops in float, the closed form the drivers
  // have always used (lntl; sa_train and sa_judge's schedules give the same bits either way).
  float at(int u) const {
    if (first_ <= 0 || u <= first_) return base_;
    const int drops = every_ > 0 ? 1 + (u - first_ - 1) / every_ : 1;
    return base_ * std::pow(factor_, static_cast<float>(drops));
  }

 private:
  float base_;
  int first_, every_;
  float factor_;
};
