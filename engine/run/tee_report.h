// A benchmark's report, shown as it is made and kept: every piece goes to stdout at once (a long run
// shows its rows as they come) and into a buffer that save() writes to the file in one piece.
#pragma once
#include <string>

class TeeReport {
 public:
  explicit TeeReport(std::string path) : path_(std::move(path)) {}
  void printf(const char* format, ...) __attribute__((format(printf, 2, 3)));
  void append(const std::string& text);
  // Writes the file (engine/write_file.h: every failure reported).
  void save() const;

 private:
  std::string path_, text_;
};
