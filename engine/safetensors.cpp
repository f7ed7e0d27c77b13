#include "engine/safetensors.h"
#include "engine/json.h"
#include "engine/text.h"

#include <unistd.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

// The format is little-endian; raw float bytes are copied in and out, so the host must be too.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes little-endian");

namespace {

constexpr uint64_t kMaxHeader = 100u << 20;  // the reference implementation's limit (100 MB)

[[noreturn]] void fail(const std::string& path, const std::string& msg) {
  throw std::runtime_error("safetensors file " + path + ": " + msg);
}

// ---------------------------------------------------------------------------------------------
// Writing.

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
  // A temp file left by a killed run goes first: were it a link, fopen would write through it and
  // the rename would put the link in the checkpoint's place.
  std::remove(tmp.c_str());
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

using File = std::unique_ptr<FILE, int (*)(FILE*)>;

File open_checkpoint(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw std::runtime_error("checkpoint " + path + " is a folder, not a safetensors file");
  File f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw std::runtime_error("cannot open checkpoint " + path + ": " + std::strerror(errno));
  return f;
}

// The next n bytes of f, fewer only where the file ends. The buffer grows as bytes arrive, so a
// length claimed by a hostile header costs no more memory than the file really holds, and nothing
// past n is read (a device such as /dev/zero cannot make the loader read without end).
std::vector<char> read_up_to(FILE* f, uint64_t n, const std::string& path) {
  constexpr uint64_t kChunk = 4u << 20;
  std::vector<char> out;
  while (out.size() < n) {
    const size_t have = out.size(), want = size_t(std::min(kChunk, n - have));
    out.resize(have + want);
    const size_t got = std::fread(out.data() + have, 1, want, f);
    out.resize(have + got);
    if (got == want) continue;
    if (std::ferror(f)) throw std::runtime_error("cannot read checkpoint " + path + ": " + std::strerror(errno));
    break;
  }
  return out;
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
// together must tile the section without overlap or gap as the spec demands (the loader has already
// refused bytes past the last range); anything else means a corrupt or foreign file.
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
}

uint64_t read_header_length(FILE* f, const std::string& path) {
  const std::vector<char> bytes = read_up_to(f, 8, path);
  if (bytes.size() < 8)
    fail(path, "truncated: " + std::to_string(bytes.size()) +
                   " bytes, too short for the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[size_t(i)]);
  if (n < 2 || n > kMaxHeader)
    fail(path, "bad header length " + std::to_string(n) + " (not a safetensors file?)");
  return n;
}

// Names are printed in messages and compared with the model's: an empty one or bytes that are not
// UTF-8 (as the format requires) mean a corrupt or foreign file.
void check_name(const std::string& name, const std::string& path) {
  if (name.empty()) fail(path, "a tensor has an empty name");
  if (!valid_utf8(name)) fail(path, "a tensor name is not valid UTF-8");
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
  File f = open_checkpoint(path);
  const uint64_t header_len = read_header_length(f.get(), path);
  const std::vector<char> header = read_up_to(f.get(), header_len, path);
  if (header.size() < header_len)
    fail(path, "header length " + std::to_string(header_len) + " exceeds the file size " +
                   std::to_string(8 + header.size()) + " (truncated or not a safetensors file)");
  Json root = parse_json(header.data(), header.data() + header.size(),
                         "safetensors file " + path + ": bad JSON header");
  if (root.kind != Json::Object) fail(path, "the header is not a JSON object");

  if (metadata) metadata->clear();
  std::vector<Entry> entries;
  uint64_t data_end = 0;
  for (const auto& kv : root.members) {
    if (kv.first == "__metadata__") {
      read_metadata(kv.second, path, metadata);
      continue;
    }
    check_name(kv.first, path);
    entries.push_back(read_entry(kv.first, kv.second, path));
    data_end = std::max(data_end, entries.back().end);
  }
  // One byte more than the header accounts for tells a longer file apart without reading the rest.
  const std::vector<char> data = read_up_to(f.get(), data_end + 1, path);
  if (data.size() > data_end)
    fail(path, "bytes after the last tensor (at " + std::to_string(data_end) +
                   " of the data section) are unaccounted for");
  check_layout(entries, data.size(), path);

  std::vector<NamedTensor> out;
  for (Entry& e : entries) {
    e.tensor.data.resize(size_t((e.end - e.begin) / 4));
    if (!e.tensor.data.empty()) std::memcpy(e.tensor.data.data(), data.data() + e.begin, e.end - e.begin);
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
