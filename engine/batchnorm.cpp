#include "engine/batchnorm.h"

#include <stdexcept>

#include "engine/ops/batchnorm.h"
#include "engine/ops/elementwise.h"

BatchNorm::BatchNorm(ParamStore& store, const std::string& name_, int c_) : c(c_), name(name_) {
  // Bound 0: the uniform initialisation leaves both at 0; init() then sets gamma to 1.
  gamma = store.reserve(name + ".weight", {c}, 0.0f);
  beta = store.reserve(name + ".bias", {c}, 0.0f);
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
  out.push_back({name + ".running_mean", {c}, std::vector<float>(host.begin(), host.begin() + c)});
  out.push_back({name + ".running_var", {c}, std::vector<float>(host.begin() + c, host.end())});
}

void BatchNorm::load_stats(const Backend& be, const std::vector<NamedTensor>& ts, const std::string& path) {
  if (!stats_.size()) throw std::logic_error("BatchNorm " + name + ": init() was not called");
  const NamedTensor& m = find_tensor(ts, name + ".running_mean", path);
  const NamedTensor& v = find_tensor(ts, name + ".running_var", path);
  if (m.data.size() != static_cast<size_t>(c) || v.data.size() != static_cast<size_t>(c))
    throw std::runtime_error(path + ": running statistics of " + name + " have the wrong size for this model");
  copy_in(be, running_mean(), m.data.data(), c * sizeof(float));
  copy_in(be, running_var(), v.data.data(), c * sizeof(float));
}
