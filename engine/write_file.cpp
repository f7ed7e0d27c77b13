#include "engine/write_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

void write_file(const std::string& path, const std::string& contents) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
  const bool written = std::fwrite(contents.data(), 1, contents.size(), f) == contents.size();
  const bool flushed = written && std::fflush(f) == 0;
  const int err = errno;
  // fclose can be the first call to see the error (e.g. on network file systems), so it is checked too.
  const bool closed = std::fclose(f) == 0;
  if (written && flushed && closed) return;
  const int why = (written && flushed) ? errno : err;
  std::remove(path.c_str());
  throw std::runtime_error("cannot write " + path + ": " + std::strerror(why));
}
