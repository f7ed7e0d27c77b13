#include "engine/run/driver.h"

#include <climits>
#include <filesystem>

#include "engine/config.h"

Driver::Driver(const char* program, const std::string& summary, const CommonDefaults& defaults)
    : program_(program), cli_(program, summary), has_data_(!defaults.data.empty()) {
  flags_.data = defaults.data;
  flags_.out = defaults.out;
  flags_.seed = defaults.seed;
  add_common_flags(cli_, has_data_);
}

void Driver::add_common_flags(Cli& cli, bool with_data) {
  cli.add("device", &flags_.device, "where to run", {"auto", "cpu", "cuda"});
  cli.add("seed", &flags_.seed, "seed of every random draw (initialisation, data order, noise)", 0, INT64_MAX);
  if (with_data) cli.add("data", &flags_.data, "folder with the MNIST IDX files (bash data/fetch.sh)");
  cli.add("out", &flags_.out, "output folder (run.json, logs, checkpoints, figures)");
}

void Driver::allow_config_file(const std::string& help, std::function<void(Cli&)> add_own_flags) {
  cli_.add("config", &config_, help);
  add_own_flags_ = std::move(add_own_flags);
}

Backend Driver::backend() {
  Backend be = make_backend(flags_.device, seed());
  if (record_) record_->set_device(be.name());
  return be;
}

int Driver::main(int argc, char** argv, const std::function<int(Driver&)>& body) {
  return run_guarded(program_, [&] {
    const std::string config = add_own_flags_ ? find_flag_value(argc, argv, "config") : "";
    if (!config.empty()) {
      Cli file_cli(program_, "");
      add_common_flags(file_cli, has_data_);
      add_own_flags_(file_cli);
      apply_config_file(file_cli, config);
    }
    if (!cli_.parse(argc, argv)) return 0;
    if (flags_.out.empty() && default_out_) flags_.out = default_out_();
    if (flags_.out.empty()) throw std::runtime_error("--out: an output folder is needed");
    std::filesystem::create_directories(flags_.out);
    record_ = std::make_unique<RunRecord>(out_path("run.json"), program_,
                                          std::vector<std::string>(argv + 1, argv + argc), cli_.values());
    try {
      const int rc = body(*this);
      record_->finish(rc, "");
      return rc;
    } catch (const RunError& e) {
      record_->finish(e.exit_code(), e.what());
      throw;
    } catch (const std::exception& e) {
      record_->finish(kExitError, e.what());
      throw;
    }
  });
}
