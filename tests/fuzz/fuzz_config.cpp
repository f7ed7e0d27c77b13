// libFuzzer target: the config-file reader on arbitrary bytes, through a Cli with a flag of every kind.
// Every input must apply or throw std::runtime_error.
#include <stdexcept>

#include "engine/config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz_file("input.conf", data, size);
  FuzzFlags flags;
  try {
    apply_config_file(flags.cli, path);
  } catch (const std::runtime_error&) {
  }
  return 0;
}
