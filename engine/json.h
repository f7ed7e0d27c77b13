// A minimal strict JSON reader and the string escaping of its writer, shared by the safetensors
// header and the run records (run.json) the drivers write.
#pragma once
#include <string>
#include <utility>
#include <vector>

struct Json {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  std::string text;  // String: the decoded value; Number: the literal as written
  bool boolean = false;
  std::vector<Json> items;                            // Array
  std::vector<std::pair<std::string, Json>> members;  // Object, in file order

  const Json* get(const std::string& key) const {
    for (const auto& m : members)
      if (m.first == key) return &m.second;
    return nullptr;
  }
};

// Parses [begin, end) as exactly one JSON value (whitespace around it allowed); nesting deeper than
// 64 levels, duplicate keys and any grammar error throw std::runtime_error
// "<context> at byte N: <what went wrong>".
Json parse_json(const char* begin, const char* end, const std::string& context);

// s as a quoted JSON string literal (quotes, backslashes and control characters escaped).
std::string json_escape(const std::string& s);
