// How a run ends: run_guarded turns errors into one-line messages and exit codes, and turns the first
// Ctrl-C (SIGINT) or SIGTERM into a stop request that the training loops poll between steps, so a run
// stopped from the keyboard or by a scheduler still saves a checkpoint and flushes its logs.
//
// Exit codes of every driver:
//   0    done
//   2    bad input or any other error (one line on stderr: "<program>: error: <what>")
//   3    the run diverged: a loss or the weights became non-finite (NaN/Inf); the last good checkpoint
//        is kept, no non-finite weights are written
//   130  stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM: 128 + the signal, as a shell reports a
//        process the signal killed; the checkpoint written then is marked "interrupted" in its metadata
#pragma once
#include <functional>
#include <stdexcept>
#include <string>

constexpr int kExitError = 2;
constexpr int kExitDiverged = 3;

// An error that ends the run with its own exit code (run_guarded prints it like any other).
class RunError : public std::runtime_error {
 public:
  RunError(const std::string& what, int exit_code) : std::runtime_error(what), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

// Runs body and returns its exit code; an exception escaping it is printed to stderr as
// "<program>: error: <what>" and gives exit code 2 (a RunError's own code for a RunError). While body
// runs, the first SIGINT or SIGTERM only sets the flag read by interrupted(); a second one of either
// kills the process as usual, so a stuck run can still be stopped.
int run_guarded(const char* program, const std::function<int()>& body);
// True once SIGINT or SIGTERM arrived inside run_guarded: finish the step, save, return
// interrupted_exit_code().
bool interrupted();
// 128 + the signal that asked the run to stop (130 for SIGINT, 143 for SIGTERM); 130 when none did.
int interrupted_exit_code();
