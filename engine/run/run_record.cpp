#include "engine/run/run_record.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <stdexcept>
#include <thread>

#include "engine/cpu/blas_kernels.h"
#include "engine/cpu/thread_pool.h"
#include "engine/json.h"
#include "engine/write_file.h"
#include "git_commit.h"  // generated into the build folder

// OpenBLAS's thread count when the GEMM is OpenBLAS; a weak reference, so other BLAS builds link too.
extern "C" int openblas_get_num_threads(void) __attribute__((weak));

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm = {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// The engine's CPU pool (its size at the time of writing: a driver may set it after the record starts),
// OpenBLAS's own count, the hardware's, and the environment variables that chose them.
std::string threads_json() {
  auto env = [](const char* var) {
    const char* v = std::getenv(var);
    return v ? json_escape(v) : std::string("null");
  };
  std::string s = "{\"engine\": " + std::to_string(cpu::threads()) + ", \"openblas\": ";
  s += openblas_get_num_threads ? std::to_string(openblas_get_num_threads()) : "null";
  s += ", \"hardware\": " + std::to_string(std::thread::hardware_concurrency());
  s += ", \"openblas_core\": " + json_escape(cpu::blas_core());
  s += ", \"AMNESIA_THREADS\": " + env("AMNESIA_THREADS") + ", \"OPENBLAS_NUM_THREADS\": " +
       env("OPENBLAS_NUM_THREADS") + ", \"OPENBLAS_CORETYPE\": " + env("OPENBLAS_CORETYPE") + "}";
  return s;
}

const char* status_of(int exit_code) {
  if (exit_code == 0) return "done";
  if (exit_code > 128) return "interrupted";
  if (exit_code == 3) return "diverged";
  return "error";
}

}  // namespace

const char* build_commit() { return AMNESIA_GIT_COMMIT; }

RunRecord::RunRecord(std::string path, std::string program, std::vector<std::string> argv,
                     std::vector<std::pair<std::string, std::string>> flags)
    : path_(std::move(path)), program_(std::move(program)), commit_(build_commit()), device_("unknown"),
      start_(utc_now()), argv_(std::move(argv)), flags_(std::move(flags)) {
  write();
}

void RunRecord::set_device(const std::string& device) {
  device_ = device;
  write();
}

void RunRecord::finish(int exit_code, const std::string& error) {
  exit_code_ = exit_code;
  status_ = status_of(exit_code);
  error_ = error;
  end_ = utc_now();
  write();
}

void RunRecord::write() const {
  std::string s = "{\n  \"program\": " + json_escape(program_) + ",\n  \"argv\": [";
  for (size_t i = 0; i < argv_.size(); ++i) s += (i ? ", " : "") + json_escape(argv_[i]);
  s += "],\n  \"flags\": {";
  for (size_t i = 0; i < flags_.size(); ++i)
    s += std::string(i ? "," : "") + "\n    " + json_escape(flags_[i].first) + ": " + json_escape(flags_[i].second);
  s += "\n  },\n  \"commit\": " + json_escape(commit_) + ",\n  \"device\": " + json_escape(device_) +
       ",\n  \"threads\": " + threads_json() + ",\n  \"start\": " + json_escape(start_) +
       ",\n  \"end\": " + (end_.empty() ? "null" : json_escape(end_)) + ",\n  \"status\": " + json_escape(status_) +
       ",\n  \"exit_code\": " + (exit_code_ < 0 ? "null" : std::to_string(exit_code_)) +
       ",\n  \"error\": " + json_escape(error_) + "\n}\n";
  // Temp file + rename: a reader (or a kill mid-write) never sees half a record.
  const std::string tmp = path_ + ".tmp";
  write_file(tmp, s);
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) throw std::runtime_error("cannot write " + path_);
}
