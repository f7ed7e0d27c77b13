// Batch normalisation layer over the channels of N x C x HW tensors (BatchNorm2d, or BatchNorm1d with
// HW = 1), PyTorch defaults: eps 1e-5, momentum 0.1.
//
// gamma ("<name>.weight") and beta ("<name>.bias") are trainable and live in the ParamStore. The
// running statistics are NOT parameters (Adam, the Fisher and EWC must not touch them), so the layer
// keeps them in its own small buffer and the model writes them into its checkpoint as
// "<name>.running_mean" / "<name>.running_var" (PyTorch's state_dict names).
#pragma once
#include <string>
#include <vector>

#include "engine/params.h"

class BatchNorm {
 public:
  int c = 0;
  float eps = 1e-5f, momentum = 0.1f;
  size_t gamma = 0, beta = 0;  // offsets in the ParamStore
  std::string name;

  BatchNorm() = default;
  BatchNorm(ParamStore& store, const std::string& name, int c);
  // One layer over `groups.size()` equal channel groups whose gamma and beta were reserved elsewhere,
  // each group's back to back (all gammas at `gamma`, all betas at `beta`); group g keeps its own name
  // for its running statistics in checkpoints. Per-channel maths, so it equals one layer per group.
  static BatchNorm over(size_t gamma, size_t beta, int c, std::vector<std::string> groups);

  // Call once after store.allocate(): sets gamma = 1, beta = 0 (ParamStore's uniform initialisation
  // cannot express a constant 1) and running_mean = 0, running_var = 1, and allocates the statistics.
  void init(const Backend& be, const ParamStore& p);

  // Training mode: normalises with the batch statistics, remembers them for backward, and moves the
  // running statistics. x, y: n x c x hw (y may not alias x: the backward reads x).
  void forward_train(const Backend& be, const ParamStore& p, const float* x, int n, int hw, float* y);
  // Evaluation mode: normalises with the running statistics.
  void forward_eval(const Backend& be, const ParamStore& p, const float* x, int n, int hw, float* y) const;
  // Backward of the last forward_train on the same x: accumulates dgamma, dbeta into p's gradients;
  // writes dx when not null.
  void backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int hw,
                float* dx) const;

  float* running_mean() const { return stats_.data(); }
  float* running_var() const { return stats_.data() + c; }
  // Appends "<name>.running_mean" and "<name>.running_var" (per group, for a layer made by over()) to a
  // checkpoint's tensor list, and reads them back.
  void append_stats(const Backend& be, std::vector<NamedTensor>& out) const;
  void load_stats(const Backend& be, const std::vector<NamedTensor>& ts, const std::string& path);

 private:
  // running_mean | running_var | batch mean | batch inverse std, c floats each.
  Buffer<float> stats_;
  std::vector<std::string> groups_;  // the statistics' names: {name}, or over()'s groups
  float* saved_mean() const { return stats_.data() + 2 * c; }
  float* saved_invstd() const { return stats_.data() + 3 * c; }
};
