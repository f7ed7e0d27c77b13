#include "engine/run/stop.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>

namespace {

std::atomic<int> g_stop_signal{0};  // 0: running; else the signal that asked for the stop
static_assert(std::atomic<int>::is_always_lock_free, "the stop flag is written by a signal handler");

// First SIGINT/SIGTERM: record it and say so (write(2) is async-signal-safe, stdio is not).
// Second: back to the default action, so a stuck run can still be killed.
extern "C" void on_stop_signal(int sig) {
  int expected = 0;
  if (!g_stop_signal.compare_exchange_strong(expected, sig)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
    return;
  }
  static const char msg[] = "\ninterrupted: stopping after the current step (again to kill)\n";
  ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
  (void)ignored;
}

}  // namespace

bool interrupted() { return g_stop_signal.load() != 0; }

int interrupted_exit_code() {
  const int sig = g_stop_signal.load();
  return 128 + (sig ? sig : SIGINT);
}

int run_guarded(const char* program, const std::function<int()>& body) {
  g_stop_signal.store(0);
  struct sigaction sa = {}, old_int = {}, old_term = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  int rc = kExitError;
  auto report = [&](const char* what) {
    std::cout.flush();
    std::fprintf(stderr, "%s: error: %s\n", program, what);
  };
  try {
    rc = body();
  } catch (const RunError& e) {
    report(e.what());
    rc = e.exit_code();
  } catch (const std::exception& e) {
    report(e.what());
  } catch (...) {
    report("unknown exception");
  }
  // The caller's handlers come back once body is done.
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return rc;
}
