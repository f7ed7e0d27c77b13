#include "engine/text.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace {
[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }
}  // namespace

bool parse_integer(const std::string& s, int64_t* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno == ERANGE || end != s.c_str() + s.size()) return false;
  *out = v;
  return true;
}

bool parse_real(const std::string& s, double* out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return false;
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno == ERANGE || end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    // Lead byte: how many continuation bytes follow and the smallest code point that length may encode.
    int more = 0;
    uint32_t cp = 0, least = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { more = 1; cp = c & 0x1Fu; least = 0x80; }
    else if ((c & 0xF0) == 0xE0) { more = 2; cp = c & 0x0Fu; least = 0x800; }
    else if ((c & 0xF8) == 0xF0) { more = 3; cp = c & 0x07u; least = 0x10000; }
    else return false;
    if (s.size() - i <= size_t(more)) return false;
    for (int k = 1; k <= more; ++k) {
      const unsigned char t = static_cast<unsigned char>(s[i + size_t(k)]);
      if ((t & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (t & 0x3Fu);
    }
    if (cp < least || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += size_t(more) + 1;
  }
  return true;
}

std::vector<int> parse_digit_list(const std::string& s, int nclass) {
  const std::string where = "digit list '" + s + "': ";
  if (nclass < 2) fail(where + "needs at least 2 classes, got " + std::to_string(nclass));
  if (trim(s).empty()) fail(where + "empty; give digits like 0,1");
  std::vector<int> out;
  std::vector<bool> seen(size_t(nclass), false);
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    int64_t v = 0;
    if (item.empty()) fail(where + "empty item between commas");
    if (!parse_integer(item, &v)) fail(where + "'" + item + "' is not an integer");
    if (v < 0 || v >= nclass)
      fail(where + "digit " + item + " is outside 0.." + std::to_string(nclass - 1));
    if (seen[size_t(v)]) fail(where + "digit " + item + " is listed twice");
    seen[size_t(v)] = true;
    out.push_back(int(v));
  }
  if (!s.empty() && s.back() == ',') fail(where + "trailing comma");
  if (int(out.size()) == nclass) fail(where + "you cannot forget every digit");
  return out;
}

std::vector<int> other_digits(const std::vector<int>& digits, int nclass) {
  std::vector<int> rest;
  for (int d = 0; d < nclass; ++d)
    if (std::find(digits.begin(), digits.end(), d) == digits.end()) rest.push_back(d);
  return rest;
}
