// The best (lowest) score seen so far and when: the best-validation checkpoint's bookkeeping.
#pragma once
#include <cstdint>

class BestTracker {
 public:
  // True when score beats every earlier one (the first score always does): save the model now.
  bool offer(double score, int64_t at) {
    if (seen_ && !(score < best_)) return false;
    seen_ = true;
    best_ = score;
    at_ = at;
    return true;
  }
  bool seen() const { return seen_; }
  double best() const { return best_; }
  int64_t at() const { return at_; }

 private:
  bool seen_ = false;
  double best_ = 0;
  int64_t at_ = 0;
};
