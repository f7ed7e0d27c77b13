// Checkpoints in the safetensors format (https://github.com/huggingface/safetensors):
//   8-byte little-endian header length N | N bytes of JSON header | tensor data.
// The header maps each tensor name to {"dtype","shape","data_offsets":[begin,end]} (offsets
// relative to the data section) plus an optional "__metadata__" object of string -> string.
// Only F32 tensors are read or written. Errors throw std::runtime_error naming the file.
#pragma once
#include <map>
#include <string>
#include <vector>

struct NamedTensor {
  std::string name;
  std::vector<int> shape;  // empty = a scalar (one element)
  std::vector<float> data;  // row-major, product(shape) elements
};

// Writes the tensors (sorted by name, data contiguous in that order) atomically: the file goes
// to path + ".tmp" (replacing one a killed run left there), is flushed and fsync'ed, then renamed
// over path, so a crash never leaves a half-written checkpoint under the real name.
void save_safetensors(const std::string& path, const std::vector<NamedTensor>& ts,
                      const std::map<std::string, std::string>& metadata = {});

// Reads every tensor (returned sorted by name). Accepts any valid safetensors header layout
// (whitespace, key order); rejects other dtypes ("unsupported dtype"), truncated files, a bad
// header length (over 100 MB), empty or non-UTF-8 tensor names, offsets that are out of range,
// overlap, leave gaps or disagree with shape, and bytes past the last tensor. Reads no further than
// the header says, so neither a hostile header nor a device like /dev/zero exhausts memory.
std::vector<NamedTensor> load_safetensors(const std::string& path,
                                          std::map<std::string, std::string>* metadata = nullptr);

// The tensor called name; throws "checkpoint <path> has no tensor <name>" when absent.
const NamedTensor& find_tensor(const std::vector<NamedTensor>& ts, const std::string& name,
                               const std::string& path);
