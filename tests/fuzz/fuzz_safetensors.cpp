// libFuzzer target: the safetensors loader on arbitrary bytes. Every input must load or throw
// std::runtime_error; a crash, a sanitizer report, a leak or another exception type is a bug.
#include <map>
#include <stdexcept>

#include "engine/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz_file("input.safetensors", data, size);
  std::map<std::string, std::string> meta;
  try {
    for (const NamedTensor& t : load_safetensors(path, &meta)) find_tensor({t}, t.name, path);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
