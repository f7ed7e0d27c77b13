// A per-process scratch folder for tests that write files, removed when the test ends.
#pragma once
#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() / ("amnesia_test_" + std::to_string(getpid())) / tag;
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
    std::filesystem::remove(path.parent_path(), ec);  // only succeeds once the last test dir is gone
  }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
};

// doctest::Contains wants a C string; this accepts the std::string messages the tests build.
inline doctest::Contains contains(const std::string& s) { return doctest::Contains(s.c_str()); }
