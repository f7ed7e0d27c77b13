#include "engine/params.h"

#include <cstdio>
#include <stdexcept>

#include "engine/ops/rng.h"

size_t ParamStore::reserve(const std::string& name, std::vector<int> shape, float init_bound) {
  if (values_.size()) throw std::logic_error("ParamStore::reserve after allocate");
  ParamEntry e{name, shape, total_, Tensor::count(shape), init_bound};
  total_ += e.size;
  entries_.push_back(e);
  return e.offset;
}

void ParamStore::allocate(const Backend& be, uint64_t seed) {
  values_ = Buffer<float>(be, total_);
  grads_ = Buffer<float>(be, total_);
  // Initialise on the host with the counter-based generator so CPU and CUDA start from the same weights.
  std::vector<float> host(total_);
  cpu::uniform(host.data(), static_cast<int64_t>(total_), seed, 0);
  for (const ParamEntry& e : entries_)
    for (size_t i = e.offset; i < e.offset + e.size; ++i) host[i] = (2.0f * host[i] - 1.0f) * e.init_bound;
  values_.upload(be, host);
}

void ParamStore::zero_grad(const Backend& be) const { zero_on(be, grads_.data(), total_ * sizeof(float)); }

void ParamStore::copy_from(const Backend& be, const ParamStore& other) const {
  if (other.total_ != total_) throw std::logic_error("ParamStore::copy_from: different models");
  copy_on(be, values_.data(), other.values_.data(), total_ * sizeof(float));
}

std::vector<NamedTensor> ParamStore::to_named(const Backend& be, const float* flat) const {
  std::vector<float> host(total_);
  copy_out(be, host.data(), flat ? flat : values_.data(), total_ * sizeof(float));
  std::vector<NamedTensor> out;
  for (const ParamEntry& e : entries_)
    out.push_back({e.name, e.shape, std::vector<float>(host.begin() + e.offset, host.begin() + e.offset + e.size)});
  return out;
}

void ParamStore::load_named(const Backend& be, const std::vector<NamedTensor>& tensors, const std::string& path,
                            float* flat) const {
  std::vector<float> host(total_);
  for (const ParamEntry& e : entries_) {
    const NamedTensor& t = find_tensor(tensors, e.name, path);
    if (t.shape != e.shape) throw std::runtime_error(path + ": tensor " + e.name + " has the wrong shape for this model");
    std::copy(t.data.begin(), t.data.end(), host.begin() + e.offset);
  }
  copy_in(be, flat ? flat : values_.data(), host.data(), total_ * sizeof(float));
}

std::string ParamStore::fingerprint(const Backend& be) const {
  std::vector<float> v = values_.download(be);
  uint64_t h = 0xcbf29ce484222325ULL;
  const unsigned char* bytes = reinterpret_cast<const unsigned char*>(v.data());
  for (size_t i = 0; i < v.size() * sizeof(float); ++i) h = (h ^ bytes[i]) * 0x100000001b3ULL;
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}
