// libFuzzer target: the IDX loader, raw and gzip. The input is one flags byte (bit 0: gzip the images,
// bit 1: gzip the labels), two bytes giving where the images end, then the images file and the labels
// file; they are written as a test split and loaded with load_mnist_split, so name resolution, both
// decoders and the 28x28 check all run. Every input must load or throw std::runtime_error.
#include <zlib.h>

#include <algorithm>
#include <stdexcept>

#include "engine/idx.h"
#include "tests/fuzz/fuzz_support.h"

namespace {

// name (raw) or name.gz (gzip-compressed), the other one removed so the loader finds this one.
void write_split_file(const std::string& name, const uint8_t* data, size_t size, bool gzip) {
  const std::filesystem::path raw = fuzz_dir() / name, gz = fuzz_dir() / (name + ".gz");
  std::filesystem::remove(gzip ? raw : gz);
  if (!gzip) {
    fuzz_file(name, data, size);
    return;
  }
  gzFile f = gzopen(gz.c_str(), "wb1");
  if (!f || (size && gzwrite(f, data, unsigned(size)) != int(size)) || gzclose(f) != Z_OK) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t flags = data[0];
  const size_t rest = size - 3, cut = std::min<size_t>(rest, size_t(data[1]) | size_t(data[2]) << 8);
  write_split_file("t10k-images-idx3-ubyte", data + 3, cut, flags & 1);
  write_split_file("t10k-labels-idx1-ubyte", data + 3 + cut, rest - cut, flags & 2);
  try {
    const Dataset d = load_mnist_split(fuzz_dir().string(), false);
    filter_digits(subset(d, d.count / 2), {0, 9});
  } catch (const std::runtime_error&) {
  }
  return 0;
}
