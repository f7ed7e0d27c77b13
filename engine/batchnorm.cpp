#include "engine/batchnorm.h"

#include <stdexcept>

#include "engine/ops/batchnorm.h"
#include "engine/ops/elementwise.h"

BatchNorm::BatchNorm(ParamStore& store, const std::string& name_, int c_) : c(c_), name(name_) {
  // Bound 0: the uniform initialisation leaves both at 0; init() then sets gamma to 1.
  gamma = store.reserve(name + ".weight", {c}, 0.0f);
  beta = store.reserve(name + ".bias", {c}, 0.0f);
  groups_ = {name};
}

BatchNorm BatchNorm::over(size_t gamma_, size_t beta_, int c_, std::vector<std::string> groups) {
  if (groups.empty() || c_ % static_cast<int>(groups.size()) != 0)
    throw std::logic_error("BatchNorm::over: the channels must split evenly over the groups");
  BatchNorm bn;
  bn.c = c_, bn.gamma = gamma_, bn.beta = beta_, bn.name = groups.front(), bn.groups_ = std::move(groups);
  return bn;
}

void BatchNorm::init(const Backend& be, const ParamStore& p) {
  fill(be, p.value(gamma), c, 1.0f);
  fill(be, p.value(beta), c, 0.0f);
  stats_ = Buffer<float>(be, 4 * static_cast<size_t>(c));  // zero-filled: running_mean = 0
  fill(be, running_var(), c, 1.0f);
}

void BatchNorm::forward_train(const Backend& be, const ParamStore& p, const float* x, int n, int hw, float* y) {
  if (!stats_.size()) throw std::logic_error("BatchNorm " + name + ": init() was not called");
  batchnorm_fwd_train(be, x, p.value(gamma), p.value(beta), n, c, hw, eps, momentum, y, saved_mean(), saved_invstd(),
                      running_mean(), running_var());
}

void BatchNorm::forward_eval(const Backend& be, const ParamStore& p, const float* x, int n, int hw, float* y) const {
  if (!stats_.size()) throw std::logic_error("BatchNorm " + name + ": init() was not called");
  batchnorm_fwd_eval(be, x, p.value(gamma), p.value(beta), running_mean(), running_var(), n, c, hw, eps, y);
}

void BatchNorm::backward(const Backend& be, const ParamStore& p, const float* x, const float* dy, int n, int hw,
                         float* dx) const {
  batchnorm_bwd(be, x, dy, p.value(gamma), saved_mean(), saved_invstd(), n, c, hw, dx, p.grad(gamma), p.grad(beta));
}

void BatchNorm::append_stats(const Backend& be, std::vector<NamedTensor>& out) const {
  std::vector<float> host(2 * static_cast<size_t>(c));
  copy_out(be, host.data(), stats_.data(), host.size() * sizeof(float));
  const int per = c / static_cast<int>(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    const auto mean = host.begin() + g * per, var = host.begin() + c + g * per;
    out.push_back({groups_[g] + ".running_mean", {per}, std::vector<float>(mean, mean + per)});
    out.push_back({groups_[g] + ".running_var", {per}, std::vector<float>(var, var + per)});
  }
}

void BatchNorm::load_stats(const Backend& be, const std::vector<NamedTensor>& ts, const std::string& path) {
  if (!stats_.size()) throw std::logic_error("BatchNorm " + name + ": init() was not called");
  const int per = c / static_cast<int>(groups_.size());
  for (size_t g = 0; g < groups_.size(); ++g) {
    const NamedTensor& m = find_tensor(ts, groups_[g] + ".running_mean", path);
    const NamedTensor& v = find_tensor(ts, groups_[g] + ".running_var", path);
    if (m.data.size() != static_cast<size_t>(per) || v.data.size() != static_cast<size_t>(per))
      throw std::runtime_error(path + ": running statistics of " + groups_[g] + " have the wrong size for this model");
    copy_in(be, running_mean() + g * per, m.data.data(), per * sizeof(float));
    copy_in(be, running_var() + g * per, v.data.data(), per * sizeof(float));
  }
}
