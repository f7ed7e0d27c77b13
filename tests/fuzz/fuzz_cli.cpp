// libFuzzer target: the command-line parser. The input is split at NUL bytes into the arguments after
// the program name; every argument list must parse or throw std::runtime_error.
#include <stdexcept>
#include <vector>

#include "engine/config.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args = {"fuzz"};
  std::string arg;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] != 0) {
      arg += char(data[i]);
      continue;
    }
    args.push_back(arg);
    arg.clear();
  }
  args.push_back(arg);
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);  // as main() gets it
  FuzzFlags flags;
  try {
    flags.cli.parse(int(args.size()), argv.data());
    find_flag_value(int(args.size()), argv.data(), "config");
  } catch (const std::runtime_error&) {
  }
  return 0;
}
