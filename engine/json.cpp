#include "engine/json.h"

#include <cstdio>
#include <cstring>
#include <set>
#include <stdexcept>

namespace {

constexpr int kMaxDepth = 64;  // nesting limit, so hostile input cannot blow the stack

class JsonParser {
 public:
  JsonParser(const char* begin, const char* end, const std::string& context)
      : p_(begin), end_(end), begin_(begin), context_(context) {}

  // The whole text must be one value plus whitespace (the header's space padding).
  Json parse_document() {
    Json v = value(0);
    skip_ws();
    if (p_ != end_) error("unexpected text after the JSON value");
    return v;
  }

 private:
  const char* p_;
  const char* end_;
  const char* begin_;
  const std::string& context_;

  [[noreturn]] void error(const std::string& what) const {
    throw std::runtime_error(context_ + " at byte " + std::to_string(p_ - begin_) + ": " + what);
  }
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  char peek() {
    skip_ws();
    if (p_ == end_) error("unexpected end of text");
    return *p_;
  }
  void expect(char c) {
    if (peek() != c) error(std::string("expected '") + c + "'");
    ++p_;
  }
  bool literal(const char* word) {
    size_t n = std::strlen(word);
    if (size_t(end_ - p_) < n || std::memcmp(p_, word, n) != 0) return false;
    p_ += n;
    return true;
  }

  Json value(int depth) {
    if (depth > kMaxDepth) error("nesting too deep");
    Json v;
    char c = peek();
    if (c == '{') return object(depth);
    if (c == '[') return array(depth);
    if (c == '"') {
      v.kind = Json::String;
      v.text = string();
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Json::Number;
      v.text = number();
    } else if (literal("true")) {
      v.kind = Json::Bool;
      v.boolean = true;
    } else if (literal("false")) {
      v.kind = Json::Bool;
    } else if (literal("null")) {
      v.kind = Json::Null;
    } else {
      error(std::string("unexpected character '") + c + "'");
    }
    return v;
  }

  Json object(int depth) {
    Json v;
    v.kind = Json::Object;
    expect('{');
    if (peek() == '}') { ++p_; return v; }
    std::set<std::string> seen;
    for (;;) {
      if (peek() != '"') error("expected a string key");
      std::string key = string();
      if (!seen.insert(key).second) error("duplicate key \"" + key + "\"");
      expect(':');
      v.members.emplace_back(key, value(depth + 1));
      if (peek() == ',') { ++p_; continue; }
      expect('}');
      return v;
    }
  }

  Json array(int depth) {
    Json v;
    v.kind = Json::Array;
    expect('[');
    if (peek() == ']') { ++p_; return v; }
    for (;;) {
      v.items.push_back(value(depth + 1));
      if (peek() == ',') { ++p_; continue; }
      expect(']');
      return v;
    }
  }

  // Validates the JSON number grammar and returns the literal; conversion happens at use.
  std::string number() {
    const char* start = p_;
    auto digits = [&] {
      const char* d = p_;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      if (p_ == d) error("malformed number");
    };
    if (*p_ == '-') ++p_;
    if (p_ != end_ && *p_ == '0') ++p_; else digits();
    if (p_ != end_ && *p_ == '.') { ++p_; digits(); }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      digits();
    }
    return std::string(start, p_);
  }

  unsigned hex4() {
    if (end_ - p_ < 4) error("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i, ++p_) {
      char c = *p_;
      v <<= 4;
      if (c >= '0' && c <= '9') v |= unsigned(c - '0');
      else if (c >= 'a' && c <= 'f') v |= unsigned(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= unsigned(c - 'A' + 10);
      else error("bad hex digit in \\u escape");
    }
    return v;
  }

  static void put_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out += char(cp);
    } else if (cp < 0x800) {
      out += char(0xC0 | (cp >> 6));
      out += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += char(0xE0 | (cp >> 12));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    } else {
      out += char(0xF0 | (cp >> 18));
      out += char(0x80 | ((cp >> 12) & 0x3F));
      out += char(0x80 | ((cp >> 6) & 0x3F));
      out += char(0x80 | (cp & 0x3F));
    }
  }

  // \uXXXX, joining a UTF-16 surrogate pair into one code point.
  unsigned unicode_escape() {
    unsigned cp = hex4();
    if (cp >= 0xDC00 && cp <= 0xDFFF) error("lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (!literal("\\u")) error("high surrogate without its low half");
      unsigned lo = hex4();
      if (lo < 0xDC00 || lo > 0xDFFF) error("bad low surrogate in \\u escape");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return cp;
  }

  std::string string() {
    ++p_;  // opening quote, checked by the caller
    std::string out;
    for (;;) {
      if (p_ == end_) error("unterminated string");
      char c = *p_++;
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) error("control character inside a string");
      if (c != '\\') { out += c; continue; }
      if (p_ == end_) error("unterminated escape");
      char e = *p_++;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': put_utf8(out, unicode_escape()); break;
        default: error(std::string("unknown escape '\\") + e + "'");
      }
    }
  }
};

}  // namespace

Json parse_json(const char* begin, const char* end, const std::string& context) {
  return JsonParser(begin, end, context).parse_document();
}

std::string json_escape(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", unsigned(static_cast<unsigned char>(c)));
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}
