// What the libFuzzer targets share: the input as a file (every loader here reads files, and fuzzing the
// real entry point means reading one), and one Cli with a flag of every kind for the parsers.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "engine/cli.h"

// A folder of this process's own (removed at exit), holding the inputs written as files.
inline const std::filesystem::path& fuzz_dir() {
  struct Dir {
    std::filesystem::path path = std::filesystem::temp_directory_path() / ("amnesia_fuzz_" + std::to_string(getpid()));
    Dir() { std::filesystem::create_directories(path); }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// Writes size bytes at data to fuzz_dir()/name and returns its path.
inline std::string fuzz_file(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = (fuzz_dir() / name).string();
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || (size && std::fwrite(data, 1, size, f) != size) || std::fclose(f) != 0) std::abort();
  return path;
}

// Flags of every kind and range the drivers declare, bound to members.
struct FuzzFlags {
  int steps = 100;
  int64_t seed = 0;
  float lr = 1e-3f;
  std::string device = "auto", name, config;
  bool quiet = false;
  Cli cli{"fuzz", "flags of every kind"};
  FuzzFlags() {
    cli.add("steps", &steps, "an int with a range", 1, 1000000);
    cli.add("seed", &seed, "an int64", 0, INT64_MAX);
    cli.add("lr", &lr, "a float with a range", 1e-8, 1.0);
    cli.add("device", &device, "a choice", {"auto", "cpu", "cuda"});
    cli.add("name", &name, "free text");
    cli.add("config", &config, "a config file (refused inside one)");
    cli.add_switch("quiet", &quiet, "a switch");
  }
};
