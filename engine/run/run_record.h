// run.json: what a run was asked to do and how it ended, written into its output folder when it
// starts (status "running") and rewritten when it ends, so a folder of results always says which
// flags, commit, device and thread count made it.
//   {"program": "sa_train", "argv": [...], "flags": {"steps": "300", ...}, "commit": "<sha>[-dirty]",
//    "device": "cpu", "threads": {"engine": 1, "openblas": 1, "hardware": 2, "openblas_core": "SkylakeX",
//                                   "AMNESIA_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
//                                   "OPENBLAS_CORETYPE": null},
//    "start": "2026-11-30T20:30:00Z", "end": "...", "status": "done", "exit_code": 0, "error": ""}
// status: running | done | interrupted (exit 130/143) | diverged (exit 3) | error (exit 2).
#pragma once
#include <string>
#include <utility>
#include <vector>

class RunRecord {
 public:
  // Writes path (atomically: temp file + rename) with status "running".
  RunRecord(std::string path, std::string program, std::vector<std::string> argv,
            std::vector<std::pair<std::string, std::string>> flags);
  // The device the run uses, once chosen ("auto" resolves to cpu or cuda); rewrites the file.
  void set_device(const std::string& device);
  // Completes the record: end time, exit code, its status word and the error message, if any.
  void finish(int exit_code, const std::string& error);

 private:
  std::string path_, program_, commit_, device_, start_, end_, status_ = "running", error_;
  std::vector<std::string> argv_;
  std::vector<std::pair<std::string, std::string>> flags_;
  int exit_code_ = -1;
  void write() const;
};

// The commit the binaries were built from (cmake/git_commit.cmake), or "unknown".
const char* build_commit();
