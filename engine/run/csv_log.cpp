#include "engine/run/csv_log.h"

#include <cstdio>
#include <stdexcept>

CsvLog::CsvLog(const std::string& path, const std::string& header) : path_(path), out_(path, std::ios::trunc) {
  if (!out_) throw std::runtime_error("cannot write " + path);
  out_ << header << '\n';
  flush();
}

void CsvLog::flush() {
  if (!out_.flush()) throw std::runtime_error("cannot write " + path_);
}

std::string CsvLog::fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
