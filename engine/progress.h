// A progress line for long loops, written to stderr:
//   label  step 1200/3000 | loss 123.4 | 45.2 steps/s | ETA 00:40
// On a terminal the line is rewritten in place (\r) at most 10 times a second; into a file or
// pipe (logs, CI) a new line is written at most every 10 seconds, so logs stay short.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

class Progress {
 public:
  // total <= 0 means unknown: no "/total" and no ETA. out defaults to stderr (tests pass a file).
  Progress(std::string label, int64_t total, FILE* out = stderr);
  // done = steps completed so far; metrics is free text such as "loss 123.4" (may be empty).
  void update(int64_t done, const std::string& metrics);
  // Prints the final line with the total time and ends it with a newline.
  void finish(const std::string& metrics);

 private:
  using Clock = std::chrono::steady_clock;
  std::string label_;
  int64_t total_;
  FILE* out_;
  bool tty_;
  Clock::time_point start_, last_print_;
  bool printed_ = false;
  int64_t done_ = 0;
  size_t last_len_ = 0;  // length of the line on screen, to blank leftovers when it shrinks

  std::string line(int64_t done, const std::string& metrics, double elapsed, bool final) const;
  void emit(const std::string& text, bool final);
};

// Seconds as "MM:SS", or "H:MM:SS" from one hour on (negative or non-finite -> "--:--").
std::string format_duration(double seconds);
