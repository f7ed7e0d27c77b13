#include "engine/safetensors.h"

#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>

// The format is little-endian; raw float bytes are copied in and out, so the host must be too.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes little-endian");

namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit (100 MB)
constexpr int kMaxDepth = 64;                // nesting limit, so a hostile header cannot blow the stack

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw std::runtime_error("safetensors file " + path + ": " + msg);
}

// ---------------------------------------------------------------------------------------------
// A minimal JSON reader: enough for any safetensors header, strict about the grammar.

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

class JsonParser {
 public:
  JsonParser(const char* begin, const char* end, const std::string& path)
      : p_(begin), end_(end), begin_(begin), path_(path) {}

  // The whole text must be one value plus whitespace (the header's space padding).
  Json parse_document() {
    Json v = value(0);
    skip_ws();
    if (p_ != end_) error("unexpected text after the JSON object");
    return v;
  }

 private:
  const char* p_;
  const char* end_;
  const char* begin_;
  const std::string& path_;

  [[noreturn]] void error(const std::string& what) const {
    fail(path_, "bad JSON header at byte " + std::to_string(p_ - begin_) + ": " + what);
  }
  void skip_ws() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  char peek() {
    skip_ws();
    if (p_ == end_) error("unexpected end of header");
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

// ---------------------------------------------------------------------------------------------
// Writing.

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

std::string shape_text(const std::vector<int>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

// Element count of a shape (negative dimensions are the caller's to report). Saturates far
// above any real file size instead of wrapping, so a hostile shape cannot alias a small size.
uint64_t element_count(const std::vector<int>& shape) {
  constexpr uint64_t kCap = UINT64_MAX / 8;
  uint64_t n = 1;
  for (int d : shape) {
    uint64_t u = uint64_t(d);
    n = (u != 0 && n > kCap / u) ? kCap : n * u;
  }
  return n;
}

void check_for_save(const std::string& path, const std::vector<const NamedTensor*>& sorted) {
  for (size_t i = 0; i < sorted.size(); ++i) {
    const NamedTensor& t = *sorted[i];
    if (t.name.empty() || t.name == "__metadata__")
      fail(path, "invalid tensor name '" + t.name + "'");
    if (i > 0 && sorted[i - 1]->name == t.name) fail(path, "duplicate tensor name '" + t.name + "'");
    for (int d : t.shape)
      if (d < 0) fail(path, "tensor '" + t.name + "' has negative shape " + shape_text(t.shape));
    if (element_count(t.shape) != t.data.size())
      fail(path, "tensor '" + t.name + "' has shape " + shape_text(t.shape) + " (" +
                     std::to_string(element_count(t.shape)) + " values) but holds " +
                     std::to_string(t.data.size()));
  }
}

// The JSON header for tensors already sorted by name, padded with spaces to a multiple of 8 so
// the data section starts 8-byte aligned (as the reference writer does).
std::string build_header(const std::vector<const NamedTensor*>& sorted,
                         const std::map<std::string, std::string>& metadata) {
  std::string h = "{";
  if (!metadata.empty()) {
    h += "\"__metadata__\":{";
    bool first = true;
    for (const auto& kv : metadata) {
      h += (first ? "" : ",") + json_escape(kv.first) + ":" + json_escape(kv.second);
      first = false;
    }
    h += "}";
  }
  uint64_t offset = 0;
  for (const NamedTensor* t : sorted) {
    uint64_t bytes = uint64_t(t->data.size()) * sizeof(float);
    if (h.size() > 1) h += ",";
    h += json_escape(t->name) + ":{\"dtype\":\"F32\",\"shape\":" + shape_text(t->shape) +
         ",\"data_offsets\":[" + std::to_string(offset) + "," + std::to_string(offset + bytes) +
         "]}";
    offset += bytes;
  }
  h += "}";
  h.append((8 - h.size() % 8) % 8, ' ');
  return h;
}

void write_all(FILE* f, const void* data, size_t bytes, const std::string& tmp) {
  if (bytes && std::fwrite(data, 1, bytes, f) != bytes)
    throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
}

// Makes the rename itself durable; best effort, since not every filesystem allows it.
void fsync_parent_dir(const std::string& path) {
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
}

void write_file_atomically(const std::string& path, const std::string& header,
                           const std::vector<const NamedTensor*>& sorted) {
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  try {
    unsigned char len[8];
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));
    write_all(f, len, 8, tmp);
    write_all(f, header.data(), header.size(), tmp);
    for (const NamedTensor* t : sorted) write_all(f, t->data.data(), t->data.size() * 4, tmp);
    if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0)
      throw std::runtime_error("cannot flush " + tmp + ": " + std::strerror(errno));
  } catch (...) {
    std::fclose(f);
    std::remove(tmp.c_str());
    throw;
  }
  if (std::fclose(f) != 0) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot close " + tmp + ": " + std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
  fsync_parent_dir(path);
}

// ---------------------------------------------------------------------------------------------
// Reading.

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open checkpoint " + path + ": " + std::strerror(errno));
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("cannot read checkpoint " + path);
  return bytes;
}

uint64_t as_uint(const Json& v, const std::string& path, const std::string& what) {
  bool digits_only = v.kind == Json::Number && !v.text.empty() &&
                     v.text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits_only) fail(path, what + " must be a non-negative integer");
  if (v.text.size() > 19) fail(path, what + " is too large (" + v.text + ")");
  return std::stoull(v.text);
}

struct Entry {
  NamedTensor tensor;
  uint64_t begin = 0, end = 0;
};

std::vector<int> read_shape(const Json* shape, const std::string& path, const std::string& name) {
  if (!shape || shape->kind != Json::Array)
    fail(path, "tensor '" + name + "' has no \"shape\" array");
  std::vector<int> out;
  for (const Json& d : shape->items) {
    uint64_t v = as_uint(d, path, "a dimension of tensor '" + name + "'");
    if (v > uint64_t(INT32_MAX)) fail(path, "tensor '" + name + "' has a dimension too large");
    out.push_back(int(v));
  }
  return out;
}

Entry read_entry(const std::string& name, const Json& info, const std::string& path) {
  if (info.kind != Json::Object) fail(path, "entry '" + name + "' is not an object");
  const Json* dtype = info.get("dtype");
  if (!dtype || dtype->kind != Json::String)
    fail(path, "tensor '" + name + "' has no \"dtype\" string");
  if (dtype->text != "F32")
    fail(path, "unsupported dtype '" + dtype->text + "' for tensor '" + name +
                   "' (only F32 is supported)");
  Entry e;
  e.tensor.name = name;
  e.tensor.shape = read_shape(info.get("shape"), path, name);
  const Json* offs = info.get("data_offsets");
  if (!offs || offs->kind != Json::Array || offs->items.size() != 2)
    fail(path, "tensor '" + name + "' needs \"data_offsets\": [begin, end]");
  e.begin = as_uint(offs->items[0], path, "data_offsets of '" + name + "'");
  e.end = as_uint(offs->items[1], path, "data_offsets of '" + name + "'");
  return e;
}

void read_metadata(const Json& meta, const std::string& path,
                   std::map<std::string, std::string>* out) {
  if (meta.kind != Json::Object) fail(path, "\"__metadata__\" is not an object");
  for (const auto& kv : meta.members) {
    if (kv.second.kind != Json::String)
      fail(path, "\"__metadata__\" value for key '" + kv.first + "' is not a string");
    if (out) (*out)[kv.first] = kv.second.text;
  }
}

// Each tensor's byte range must match its shape, stay inside the data section, and the ranges
// together must tile the section exactly (no overlap, no gap, nothing left over) as the spec
// demands; anything else means a corrupt or foreign file.
void check_layout(std::vector<Entry>& es, uint64_t data_bytes, const std::string& path) {
  for (const Entry& e : es) {
    const std::string& n = e.tensor.name;
    if (e.begin > e.end || e.end > data_bytes)
      fail(path, "tensor '" + n + "' has data_offsets [" + std::to_string(e.begin) + "," +
                     std::to_string(e.end) + "] outside the " + std::to_string(data_bytes) +
                     "-byte data section (truncated file?)");
    uint64_t want = element_count(e.tensor.shape) * 4;
    if (e.end - e.begin != want)
      fail(path, "tensor '" + n + "' has shape " + shape_text(e.tensor.shape) + " (" +
                     std::to_string(want) + " bytes) but data_offsets span " +
                     std::to_string(e.end - e.begin) + " bytes");
  }
  std::sort(es.begin(), es.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t at = 0;
  for (const Entry& e : es) {
    if (e.begin < at) fail(path, "tensor '" + e.tensor.name + "' overlaps the tensor before it");
    if (e.begin > at)
      fail(path, "gap of " + std::to_string(e.begin - at) + " bytes before tensor '" +
                     e.tensor.name + "'");
    at = e.end;
  }
  if (at != data_bytes)
    fail(path, std::to_string(data_bytes - at) + " bytes after the last tensor are unaccounted for");
}

uint64_t read_header_length(const std::vector<char>& bytes, const std::string& path) {
  if (bytes.size() < 8)
    fail(path, "truncated: " + std::to_string(bytes.size()) +
                   " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[size_t(i)]);
  if (n < 2 || n > kMaxHeader)
    fail(path, "bad header length " + std::to_string(n) + " (not a safetensors file?)");
  if (n > bytes.size() - 8)
    fail(path, "header length " + std::to_string(n) + " exceeds the file size " +
                   std::to_string(bytes.size()) + " (truncated or not a safetensors file)");
  return n;
}

}  // namespace

void save_safetensors(const std::string& path, const std::vector<NamedTensor>& ts,
                      const std::map<std::string, std::string>& metadata) {
  std::vector<const NamedTensor*> sorted;
  for (const NamedTensor& t : ts) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(),
            [](const NamedTensor* a, const NamedTensor* b) { return a->name < b->name; });
  check_for_save(path, sorted);
  write_file_atomically(path, build_header(sorted, metadata), sorted);
}

std::vector<NamedTensor> load_safetensors(const std::string& path,
                                          std::map<std::string, std::string>* metadata) {
  std::vector<char> bytes = read_file(path);
  const uint64_t header_len = read_header_length(bytes, path);
  const char* header = bytes.data() + 8;
  Json root = JsonParser(header, header + header_len, path).parse_document();
  if (root.kind != Json::Object) fail(path, "the header is not a JSON object");

  if (metadata) metadata->clear();
  std::vector<Entry> entries;
  for (const auto& kv : root.members) {
    if (kv.first == "__metadata__") read_metadata(kv.second, path, metadata);
    else entries.push_back(read_entry(kv.first, kv.second, path));
  }
  const uint64_t data_start = 8 + header_len;
  check_layout(entries, uint64_t(bytes.size()) - data_start, path);

  std::vector<NamedTensor> out;
  for (Entry& e : entries) {
    e.tensor.data.resize(size_t((e.end - e.begin) / 4));
    if (!e.tensor.data.empty())
      std::memcpy(e.tensor.data.data(), bytes.data() + data_start + e.begin, e.end - e.begin);
    out.push_back(std::move(e.tensor));
  }
  std::sort(out.begin(), out.end(),
            [](const NamedTensor& a, const NamedTensor& b) { return a.name < b.name; });
  return out;
}

const NamedTensor& find_tensor(const std::vector<NamedTensor>& ts, const std::string& name,
                               const std::string& path) {
  for (const NamedTensor& t : ts)
    if (t.name == name) return t;
  throw std::runtime_error("checkpoint " + path + " has no tensor " + name);
}
