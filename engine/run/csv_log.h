// A CSV log that a kill cannot truncate mid-run: the header is written on opening (the file is
// replaced), and every row is flushed as it is written.
#pragma once
#include <fstream>
#include <string>

class CsvLog {
 public:
  // Truncates path and writes the header line; throws std::runtime_error naming the file on failure.
  CsvLog(const std::string& path, const std::string& header);
  // One row: the fields comma-separated, each as operator<< writes it (so numbers read as before).
  template <class... T>
  void row(const T&... fields) {
    const char* sep = "";
    ((out_ << sep << fields, sep = ","), ...);
    out_ << '\n';
    flush();
  }
  const std::string& path() const { return path_; }
  // v with `digits` decimals ("%.*f"), for logs that fix their precision.
  static std::string fixed(double v, int digits);

 private:
  std::string path_;
  std::ofstream out_;
  void flush();
};
