#include "engine/run/tee_report.h"

#include <cstdarg>
#include <cstdio>
#include <vector>

#include "engine/write_file.h"

void TeeReport::printf(const char* format, ...) {
  va_list args, again;
  va_start(args, format);
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, format, args);
  va_end(args);
  std::vector<char> buf(static_cast<size_t>(n > 0 ? n : 0) + 1);
  std::vsnprintf(buf.data(), buf.size(), format, again);
  va_end(again);
  append(buf.data());
}

void TeeReport::append(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  text_ += text;
}

void TeeReport::save() const { write_file(path_, text_); }
