// Progress lines: content, throttling in log (non-tty) mode, and duration formatting.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <limits>
#include <thread>

#include "engine/progress.h"

namespace {

// Everything written so far to a tmpfile().
std::string contents(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST_CASE("progress: format_duration") {
  CHECK(format_duration(0) == "00:00");
  CHECK(format_duration(40) == "00:40");
  CHECK(format_duration(59.6) == "01:00");
  CHECK(format_duration(754) == "12:34");
  CHECK(format_duration(3661) == "1:01:01");
  CHECK(format_duration(-1) == "--:--");
  CHECK(format_duration(std::numeric_limits<double>::infinity()) == "--:--");
}

TEST_CASE("progress: log mode prints the first update, throttles the rest, finishes with the total") {
  FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  Progress p("sa_train", 3000, f);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  p.update(1200, "loss 123.4");
  p.update(1300, "loss 120.0");  // within 10 s of the last line: not printed
  p.finish("loss 99.5");
  const std::string out = contents(f);
  std::fclose(f);
  CAPTURE(out);
  CHECK(count_lines(out) == 2);
  CHECK(out.find("sa_train  step 1200/3000 | loss 123.4 | ") == 0);
  CHECK(out.find("steps/s | ETA ") != std::string::npos);
  CHECK(out.find("loss 120.0") == std::string::npos);
  CHECK(out.find("sa_train  step 1300/3000 | loss 99.5 | ") != std::string::npos);
  CHECK(out.find("| total 00:00\n") != std::string::npos);
  CHECK(out.find('\r') == std::string::npos);  // no in-place rewriting into a file
}

TEST_CASE("progress: unknown total and empty metrics") {
  FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  Progress p("eval", 0, f);
  p.update(0, "");
  p.finish("");
  const std::string out = contents(f);
  std::fclose(f);
  CAPTURE(out);
  CHECK(out.find("eval  step 0\n") == 0);
  CHECK(out.find("ETA") == std::string::npos);
  CHECK(out.find("eval  step 0 | total ") != std::string::npos);
}
