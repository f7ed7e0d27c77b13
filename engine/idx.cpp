#include "engine/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace {

constexpr uint32_t kImagesMagic = 0x00000803;  // unsigned bytes, 3 dimensions
constexpr uint32_t kLabelsMagic = 0x00000801;  // unsigned bytes, 1 dimension
constexpr int kNumClasses = 10;
constexpr int kMnistSide = 28;

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

constexpr uint64_t kMaxPixels = 1ull << 30;  // 1 GiB of pixels (4 GiB as floats); MNIST's train set is 47 MB

using GzFile = std::unique_ptr<gzFile_s, int (*)(gzFile)>;

// Reading through zlib: gzread passes non-gzip input through unchanged, so one path serves both the
// raw MNIST files and the gzipped FashionMNIST ones.
GzFile open_maybe_gzip(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path + " is a folder, not an IDX file");
  GzFile f(gzopen(path.c_str(), "rb"), gzclose);
  if (!f) fail("cannot open " + path + ": " + std::strerror(errno));
  gzbuffer(f.get(), 1 << 20);  // large buffer: the train images are 47 MB
  return f;
}

// The next n bytes (fewer only where the data ends), appended to out. Nothing past n is read or
// decompressed, so a small gzip that expands to gigabytes costs no more than its header claims.
void read_up_to(gzFile f, uint64_t n, const std::string& path, std::vector<uint8_t>& out) {
  constexpr uint64_t kChunk = 1u << 20;
  for (uint64_t done = 0; done < n;) {
    const size_t have = out.size(), want = size_t(std::min(kChunk, n - done));
    out.resize(have + want);  // grown as the data arrives: a truncated file allocates only what it holds
    const int got = gzread(f, out.data() + have, unsigned(want));
    if (got < 0) {
      int code = 0;
      const char* why = gzerror(f, &code);
      fail("cannot read " + path + ": " + (why ? why : "zlib error"));
    }
    out.resize(have + size_t(got));
    done += uint64_t(got);
    if (size_t(got) < want) return;
  }
}

uint32_t read_be32(const std::vector<uint8_t>& b, size_t at) {
  return (uint32_t(b[at]) << 24) | (uint32_t(b[at + 1]) << 16) | (uint32_t(b[at + 2]) << 8) |
         uint32_t(b[at + 3]);
}

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// The header is magic + one 32-bit size per dimension; reads it into b and returns those sizes.
std::vector<uint32_t> read_header(gzFile f, std::vector<uint8_t>& b, const std::string& path, uint32_t magic,
                                  int ndims) {
  const size_t header = 4 + 4 * size_t(ndims);
  read_up_to(f, header, path, b);
  // The magic is checked first: a labels file passed as images should say so, not "truncated".
  if (b.size() >= 4 && read_be32(b, 0) != magic)
    fail(path + " has IDX magic " + hex32(read_be32(b, 0)) + ", expected " + hex32(magic) +
         (magic == kImagesMagic ? " (an images file)" : " (a labels file)"));
  if (b.size() < header)
    fail(path + " is truncated: expected at least " + std::to_string(header) +
         " header bytes, got " + std::to_string(b.size()));
  std::vector<uint32_t> dims;
  for (int i = 0; i < ndims; ++i) dims.push_back(read_be32(b, 4 + 4 * size_t(i)));
  return dims;
}

// Reads the payload after the header: the file must hold exactly `expected` bytes in all. Shorter
// is a cut-off download; longer (one byte past is enough to tell) means the header does not
// describe this file.
void read_payload(gzFile f, std::vector<uint8_t>& b, const std::string& path, uint64_t expected) {
  read_up_to(f, expected + 1 - b.size(), path, b);
  if (b.size() < expected)
    fail(path + " is truncated: expected " + std::to_string(expected) + " bytes, got " +
         std::to_string(b.size()));
  if (b.size() > expected)
    fail(path + " is longer than its header says: expected " + std::to_string(expected) + " bytes");
}

void load_images(const std::string& path, Dataset& d) {
  GzFile f = open_maybe_gzip(path);
  std::vector<uint8_t> b;
  std::vector<uint32_t> dims = read_header(f.get(), b, path, kImagesMagic, 3);
  // Bounds keep count * height * width inside int and size_t arithmetic below.
  if (dims[1] == 0 || dims[2] == 0 || dims[1] > 4096 || dims[2] > 4096)
    fail(path + " has implausible image size " + std::to_string(dims[1]) + "x" +
         std::to_string(dims[2]));
  if (uint64_t(dims[0]) * dims[1] * dims[2] > kMaxPixels)
    fail(path + " claims " + std::to_string(dims[0]) + " images of " + std::to_string(dims[1]) + "x" +
         std::to_string(dims[2]) + ", more than 1 GiB of pixels to load");
  d.count = int(dims[0]);
  d.height = int(dims[1]);
  d.width = int(dims[2]);
  const size_t n = size_t(d.count) * size_t(d.dim());
  read_payload(f.get(), b, path, 16 + uint64_t(n));
  d.images.resize(n);
  for (size_t i = 0; i < n; ++i) d.images[i] = float(b[16 + i]) / 255.0f;
}

// The labels of the images d already holds (loaded from images_path): one per image, so the count
// is checked before anything past the header is read.
void load_labels(const std::string& path, const std::string& images_path, Dataset& d) {
  GzFile f = open_maybe_gzip(path);
  std::vector<uint8_t> b;
  std::vector<uint32_t> dims = read_header(f.get(), b, path, kLabelsMagic, 1);
  if (dims[0] != uint32_t(d.count))
    fail(images_path + " has " + std::to_string(d.count) + " images but " + path + " has " +
         std::to_string(dims[0]) + " labels");
  const size_t n = dims[0];
  read_payload(f.get(), b, path, 8 + uint64_t(n));
  d.labels.resize(n);
  for (size_t i = 0; i < n; ++i) {
    int y = b[8 + i];
    if (y >= kNumClasses)
      fail(path + ": label " + std::to_string(y) + " at index " + std::to_string(i) +
           " is outside 0..9");
    d.labels[i] = y;
  }
}

// "<dir>/<name>" when it exists, else "<dir>/<name>.gz" when that exists, else an error.
std::string resolve(const std::string& dir, const std::string& name) {
  namespace fs = std::filesystem;
  fs::path raw = fs::path(dir) / name;
  fs::path gz = fs::path(dir) / (name + ".gz");
  if (fs::exists(raw)) return raw.string();
  if (fs::exists(gz)) return gz.string();
  fail("dataset file " + raw.string() + "(.gz) not found; run 'bash data/fetch.sh' to download " +
       "MNIST and FashionMNIST");
}

void check_digit(int c, const char* who) {
  if (c < 0 || c >= kNumClasses)
    fail(std::string(who) + ": digit " + std::to_string(c) + " is outside 0..9");
}

// Copies example i of src onto the end of dst (same geometry).
void append_example(const Dataset& src, int i, Dataset& dst) {
  const size_t dim = size_t(src.dim());
  auto first = src.images.begin() + std::ptrdiff_t(size_t(i) * dim);
  dst.images.insert(dst.images.end(), first, first + std::ptrdiff_t(dim));
  dst.labels.push_back(src.labels[size_t(i)]);
  ++dst.count;
}

Dataset empty_like(const Dataset& d) {
  Dataset out;
  out.height = d.height;
  out.width = d.width;
  return out;
}

}  // namespace

Dataset load_idx_pair(const std::string& images_path, const std::string& labels_path) {
  Dataset d;
  load_images(images_path, d);
  load_labels(labels_path, images_path, d);
  return d;
}

Dataset load_mnist_split(const std::string& dir, bool train) {
  const std::string prefix = train ? "train" : "t10k";
  std::string images = resolve(dir, prefix + "-images-idx3-ubyte");
  std::string labels = resolve(dir, prefix + "-labels-idx1-ubyte");
  Dataset d = load_idx_pair(images, labels);
  // Every network here is built for MNIST's geometry; other sizes would be read out of bounds.
  if (d.height != kMnistSide || d.width != kMnistSide)
    fail(images + " holds " + std::to_string(d.height) + "x" + std::to_string(d.width) + " images; MNIST and " +
         "FashionMNIST images are " + std::to_string(kMnistSide) + "x" + std::to_string(kMnistSide));
  return d;
}

Dataset subset(const Dataset& d, int n) {
  if (n < 0 || n > d.count)
    fail("subset: asked for " + std::to_string(n) + " examples, the dataset has " +
         std::to_string(d.count));
  Dataset out = empty_like(d);
  out.count = n;
  out.images.assign(d.images.begin(), d.images.begin() + std::ptrdiff_t(size_t(n) * d.dim()));
  out.labels.assign(d.labels.begin(), d.labels.begin() + n);
  return out;
}

Dataset filter_digits(const Dataset& d, const std::vector<int>& keep) {
  bool wanted[kNumClasses] = {};
  for (int c : keep) {
    check_digit(c, "filter_digits");
    wanted[c] = true;
  }
  Dataset out = empty_like(d);
  for (int i = 0; i < d.count; ++i) {
    int y = d.labels[size_t(i)];
    check_digit(y, "filter_digits (dataset label)");  // hand-built datasets skip the loader's check
    if (wanted[y]) append_example(d, i, out);
  }
  return out;
}

Dataset slice(const Dataset& d, int begin, int end) {
  if (begin < 0 || begin > end)
    fail("slice: asked for examples " + std::to_string(begin) + ".." + std::to_string(end) + ", an empty or reversed range");
  Dataset out = subset(d, end);
  out.count = end - begin;
  out.images.erase(out.images.begin(), out.images.begin() + static_cast<size_t>(begin) * d.dim());
  out.labels.erase(out.labels.begin(), out.labels.begin() + begin);
  return out;
}
