#include "engine/progress.h"

#include <unistd.h>

#include <cmath>

namespace {

constexpr double kTtyInterval = 0.1;   // terminal: redraw at most 10 times a second
constexpr double kLogInterval = 10.0;  // file or pipe: one line per 10 s keeps logs readable

std::string rate_text(double steps_per_s) {
  char buf[48];
  if (steps_per_s >= 10) std::snprintf(buf, sizeof buf, "%.1f steps/s", steps_per_s);
  else if (steps_per_s >= 0.1) std::snprintf(buf, sizeof buf, "%.2f steps/s", steps_per_s);
  else std::snprintf(buf, sizeof buf, "%.1f s/step", steps_per_s > 0 ? 1.0 / steps_per_s : 0.0);
  return buf;
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  long long s = (long long)std::llround(seconds);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%02lld:%02lld", s / 60, s % 60);
  return buf;
}

Progress::Progress(std::string label, int64_t total, FILE* out)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      tty_(isatty(fileno(out)) != 0),
      start_(Clock::now()),
      last_print_(start_) {}

std::string Progress::line(int64_t done, const std::string& metrics, double elapsed,
                           bool final) const {
  std::string s = label_ + "  step " + std::to_string(done);
  if (total_ > 0) s += "/" + std::to_string(total_);
  if (!metrics.empty()) s += " | " + metrics;
  if (elapsed > 0 && done > 0) s += " | " + rate_text(double(done) / elapsed);
  if (final) {
    s += " | total " + format_duration(elapsed);
  } else if (total_ > 0 && done > 0 && elapsed > 0) {
    s += " | ETA " + format_duration(double(total_ - done) * elapsed / double(done));
  }
  return s;
}

void Progress::emit(const std::string& text, bool final) {
  if (tty_) {
    // Pad with blanks rather than an escape code so the output stays plain text everywhere.
    std::string padded = text;
    if (padded.size() < last_len_) padded.append(last_len_ - padded.size(), ' ');
    std::fprintf(out_, "\r%s%s", padded.c_str(), final ? "\n" : "");
    last_len_ = final ? 0 : text.size();
  } else {
    std::fprintf(out_, "%s\n", text.c_str());
  }
  std::fflush(out_);
}

void Progress::update(int64_t done, const std::string& metrics) {
  done_ = done;
  const Clock::time_point now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  // The first update always shows, so a run says it is alive before the first interval passes.
  if (printed_ && since < (tty_ ? kTtyInterval : kLogInterval)) return;
  printed_ = true;
  last_print_ = now;
  emit(line(done, metrics, std::chrono::duration<double>(now - start_).count(), false), false);
}

void Progress::finish(const std::string& metrics) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
  // Shows the last reported step, so a run stopped early (Ctrl-C) says how far it got.
  emit(line(done_, metrics, elapsed, true), true);
}
