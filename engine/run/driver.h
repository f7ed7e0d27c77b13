// The frame every driver runs in: the flags all of them share, registered once; the out folder and its
// run.json; one-line errors, exit codes and the polite stop of engine/run/stop.h.
//
//   int main(int argc, char** argv) {
//     Options o;
//     Driver d("sa_train", "Train the CVAE ...", {"data/mnist", "runs/sa_train"});
//     d.cli().add("steps", &o.steps, "training steps", 1, 100000000);
//     return d.main(argc, argv, [&](Driver& d) { return train(o, d); });
//   }
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "engine/backend.h"
#include "engine/cli.h"
#include "engine/run/run_record.h"
#include "engine/run/stop.h"

// The defaults of the shared flags. An empty data default means the driver takes no --data (it reads
// checkpoints, or several data folders under their own names).
struct CommonDefaults {
  std::string data, out;
  int64_t seed = 0;
};

// --device, --seed, --data and --out.
struct CommonFlags {
  std::string device = "auto";
  int64_t seed = 0;
  std::string data, out;
};

class Driver {
 public:
  // Registers the shared flags on cli() (a driver adds its own after them).
  Driver(const char* program, const std::string& summary, const CommonDefaults& defaults);
  Cli& cli() { return cli_; }
  const CommonFlags& flags() const { return flags_; }
  uint64_t seed() const { return static_cast<uint64_t>(flags_.seed); }
  const std::string& out() const { return flags_.out; }
  std::string out_path(const std::string& name) const { return flags_.out + "/" + name; }
  // make_backend(--device, --seed), recorded in run.json.
  Backend backend();
  // Accepts --config FILE: `key = value` lines naming the same flags (engine/config.h). add_own_flags
  // registers the driver's own flags on the file's Cli, bound to the same variables as on cli().
  // Precedence: built-in defaults < config file < command line.
  void allow_config_file(const std::string& help, std::function<void(Cli&)> add_own_flags);
  // For a driver whose default out folder depends on its other flags (defaults.out empty): when --out is
  // not given, the folder is default_out(), asked after parsing.
  void derive_out(std::function<std::string()> default_out) { default_out_ = std::move(default_out); }

  // Parses argv (exit 0 after --help), creates the out folder, writes run.json, runs body and completes
  // run.json with its exit code (or error) under run_guarded.
  int main(int argc, char** argv, const std::function<int(Driver&)>& body);

 private:
  const char* program_;
  Cli cli_;
  CommonFlags flags_;
  bool has_data_;
  std::string config_;
  std::function<void(Cli&)> add_own_flags_;
  std::function<std::string()> default_out_;
  std::unique_ptr<RunRecord> record_;

  void add_common_flags(Cli& cli, bool with_data);
};
