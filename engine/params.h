// All trainable parameters of a model live in one flat buffer (and their gradients in a twin),
// so Adam, the Fisher and the EWC penalty are single flat loops. Layers keep offsets into it.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "engine/buffer.h"
#include "engine/safetensors.h"

struct ParamEntry {
  std::string name;  // PyTorch-style, e.g. "enc1.weight", so checkpoints load in PyTorch by name
  std::vector<int> shape;
  size_t offset = 0;
  size_t size = 0;
  float init_bound = 0.0f;  // uniform(-b, b) initialisation
};

class ParamStore {
 public:
  // Declares a parameter before allocate(); returns its offset in the flat buffer.
  size_t reserve(const std::string& name, std::vector<int> shape, float init_bound);
  // Allocates values and gradients and initialises values from `seed` (identical on every device).
  void allocate(const Backend& be, uint64_t seed);

  float* value(size_t offset) const { return values_.data() + offset; }
  float* grad(size_t offset) const { return grads_.data() + offset; }
  float* values() const { return values_.data(); }
  float* grads() const { return grads_.data(); }
  size_t size() const { return total_; }
  const std::vector<ParamEntry>& entries() const { return entries_; }
  void zero_grad(const Backend& be) const;
  void copy_from(const Backend& be, const ParamStore& other) const;
  // FNV-1a hash of the values' bytes, as 16 hex digits: ties files derived from a model (its Fisher)
  // to the exact weights they were computed from.
  std::string fingerprint(const Backend& be) const;

  // Checkpoint views: one NamedTensor per parameter taken from `flat` (values by default), and back.
  std::vector<NamedTensor> to_named(const Backend& be, const float* flat = nullptr) const;
  void load_named(const Backend& be, const std::vector<NamedTensor>& tensors, const std::string& path,
                  float* flat = nullptr) const;

 private:
  std::vector<ParamEntry> entries_;
  size_t total_ = 0;
  Buffer<float> values_, grads_;
};
