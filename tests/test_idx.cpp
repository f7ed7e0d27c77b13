// IDX loading on tiny synthetic files (raw and gzip), its error paths, and the real data where
// data/fetch.sh has been run.
#include <doctest/doctest.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "tests/temp_dir.h"
#include "engine/idx.h"

namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

void put_be32(Bytes& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(uint8_t(v >> s));
}

Bytes images_file(uint32_t count, uint32_t h, uint32_t w, const Bytes& pixels) {
  Bytes b;
  put_be32(b, 0x00000803);
  put_be32(b, count);
  put_be32(b, h);
  put_be32(b, w);
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

Bytes labels_file(const Bytes& labels) {
  Bytes b;
  put_be32(b, 0x00000801);
  put_be32(b, uint32_t(labels.size()));
  b.insert(b.end(), labels.begin(), labels.end());
  return b;
}

void write_raw(const std::string& path, const Bytes& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

void write_gz(const std::string& path, const Bytes& b) {
  gzFile f = gzopen(path.c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), unsigned(b.size())) == int(b.size()));
  gzclose(f);
}

// Three 2x3 images whose pixels count up, labels 7, 0, 9.
const Bytes kPixels = {0, 51, 102, 153, 204, 255, 1, 2, 3, 4, 5, 6, 10, 20, 30, 40, 50, 60};
const Bytes kLabels = {7, 0, 9};

void check_small(const Dataset& d) {
  CHECK(d.count == 3);
  CHECK(d.height == 2);
  CHECK(d.width == 3);
  CHECK(d.dim() == 6);
  REQUIRE(d.images.size() == 18);
  CHECK(d.images[0] == 0.0f);
  CHECK(d.images[1] == doctest::Approx(0.2f));
  CHECK(d.images[5] == 1.0f);
  CHECK(d.images[17] == doctest::Approx(60.0f / 255.0f));
  CHECK(d.labels == std::vector<int>{7, 0, 9});
}

fs::path repo_root() { return fs::path(__FILE__).parent_path().parent_path(); }

}  // namespace

TEST_CASE("idx: raw and gzip files load identically") {
  TempDir t("idx_ok");
  write_raw(t / "img", images_file(3, 2, 3, kPixels));
  write_raw(t / "lab", labels_file(kLabels));
  write_gz(t / "img.gz", images_file(3, 2, 3, kPixels));
  write_gz(t / "lab.gz", labels_file(kLabels));
  check_small(load_idx_pair(t / "img", t / "lab"));
  check_small(load_idx_pair(t / "img.gz", t / "lab.gz"));
  check_small(load_idx_pair(t / "img.gz", t / "lab"));
}

TEST_CASE("idx: truncated and oversized files name the file and the byte counts") {
  TempDir t("idx_trunc");
  Bytes short_pixels(kPixels.begin(), kPixels.end() - 4);
  write_raw(t / "img", images_file(3, 2, 3, short_pixels));
  write_gz(t / "img.gz", images_file(3, 2, 3, short_pixels));
  write_raw(t / "lab", labels_file(kLabels));
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "img", t / "lab"),
                       contains((t / "img") + " is truncated: expected 34 bytes, got 30"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "img.gz", t / "lab"), contains("expected 34 bytes, got 30"),
                       std::runtime_error);
  Bytes long_pixels = kPixels;
  long_pixels.push_back(0);
  write_raw(t / "img2", images_file(3, 2, 3, long_pixels));
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "img2", t / "lab"),
                       contains("is longer than its header says: expected 34 bytes"), std::runtime_error);
  write_raw(t / "tiny", Bytes{0, 0, 8});
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "tiny", t / "lab"), contains("truncated"), std::runtime_error);
}

TEST_CASE("idx: wrong magic, count mismatch, bad labels, bad dims") {
  TempDir t("idx_bad");
  write_raw(t / "img", images_file(3, 2, 3, kPixels));
  write_raw(t / "lab", labels_file(kLabels));
  // swapped arguments: each file has the other's magic
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "lab", t / "img"),
                       contains("has IDX magic 0x00000801, expected 0x00000803"), std::runtime_error);
  write_raw(t / "lab2", labels_file({7, 0}));
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "img", t / "lab2"), contains("has 3 images but"),
                       std::runtime_error);
  write_raw(t / "lab3", labels_file({7, 10, 1}));
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "img", t / "lab3"), contains("label 10 at index 1"),
                       std::runtime_error);
  write_raw(t / "img0", images_file(3, 0, 3, {}));
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "img0", t / "lab"), contains("implausible image size"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "nope", t / "lab"), contains(t / "nope"), std::runtime_error);
}

TEST_CASE("idx: load_mnist_split finds raw or .gz files and suggests fetch.sh otherwise") {
  TempDir t("idx_split");
  write_gz(t / "train-images-idx3-ubyte.gz", images_file(3, 28, 28, Bytes(3 * 784, 7)));
  write_raw(t / "train-labels-idx1-ubyte", labels_file(kLabels));
  const Dataset d = load_mnist_split(t.path.string(), true);
  CHECK(d.count == 3);
  CHECK(d.dim() == 784);
  CHECK(d.labels == std::vector<int>{7, 0, 9});
  CHECK_THROWS_WITH_AS(load_mnist_split(t.path.string(), false), contains("bash data/fetch.sh"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(load_mnist_split(t.path.string(), false), contains("t10k-images-idx3-ubyte"),
                       std::runtime_error);
}

TEST_CASE("idx: load_mnist_split refuses images that are not 28x28, naming the file") {
  // Every network reads 784 pixels: 14x14 images were read out of bounds, 56x56 ones silently cut.
  for (uint32_t side : {14u, 56u}) {
    TempDir t("idx_side");
    write_raw(t / "t10k-images-idx3-ubyte", images_file(3, side, side, Bytes(3 * side * side, 1)));
    write_raw(t / "t10k-labels-idx1-ubyte", labels_file(kLabels));
    const std::string size = std::to_string(side) + "x" + std::to_string(side);
    CHECK_THROWS_WITH_AS(load_mnist_split(t.path.string(), false),
                         contains(t / "t10k-images-idx3-ubyte" + " holds " + size + " images"), std::runtime_error);
    CHECK(load_idx_pair(t / "t10k-images-idx3-ubyte", t / "t10k-labels-idx1-ubyte").height == int(side));
  }
}

TEST_CASE("idx: reads no further than the headers say") {
  TempDir t("idx_bounded");
  write_raw(t / "lab", labels_file(kLabels));
  // A valid file followed by 64 GiB (sparse, so nothing is stored) fails at once instead of being read whole.
  write_raw(t / "huge", images_file(3, 2, 3, kPixels));
  fs::resize_file(t / "huge", 64ull << 30);
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "huge", t / "lab"), contains("longer than its header says"),
                       std::runtime_error);
  // Endless input: the magic is read and refused.
  CHECK_THROWS_WITH_AS(load_idx_pair("/dev/zero", t / "lab"), contains("/dev/zero has IDX magic 0x00000000"),
                       std::runtime_error);
  // A gzip stream that expands far past its header: only the claimed bytes (plus one) are inflated.
  gzFile f = gzopen((t / "bomb.gz").c_str(), "wb9");
  REQUIRE(f != nullptr);
  const Bytes header = images_file(3, 2, 3, kPixels), zeros(1 << 20, 0);
  gzwrite(f, header.data(), unsigned(header.size()));
  for (int i = 0; i < 64; ++i) gzwrite(f, zeros.data(), unsigned(zeros.size()));  // 64 MiB inflated
  gzclose(f);
  CHECK(fs::file_size(t / "bomb.gz") < (1u << 20));
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "bomb.gz", t / "lab"), contains("longer than its header says"),
                       std::runtime_error);
  // Labels are checked against the image count before their payload is read.
  write_raw(t / "img", images_file(3, 2, 3, kPixels));
  write_raw(t / "lab_huge", labels_file(kLabels));
  fs::resize_file(t / "lab_huge", 64ull << 30);
  CHECK_THROWS_WITH_AS(load_idx_pair(t / "img", t / "lab_huge"), contains("longer than its header says"),
                       std::runtime_error);
  CHECK_THROWS_WITH_AS(load_idx_pair(t.path.string(), t / "lab"), contains(t.path.string() + " is a folder"),
                       std::runtime_error);
}

TEST_CASE("idx: subset and filter_digits") {
  TempDir t("idx_sub");
  write_raw(t / "img", images_file(3, 2, 3, kPixels));
  write_raw(t / "lab", labels_file(kLabels));
  Dataset d = load_idx_pair(t / "img", t / "lab");

  Dataset s = subset(d, 2);
  CHECK(s.count == 2);
  CHECK(s.height == 2);
  CHECK(s.images.size() == 12);
  CHECK(s.labels == std::vector<int>{7, 0});
  CHECK(subset(d, 0).count == 0);
  CHECK_THROWS_WITH_AS(subset(d, 4), contains("asked for 4"), std::runtime_error);
  CHECK_THROWS_AS(subset(d, -1), std::runtime_error);

  Dataset f = filter_digits(d, {9, 7});
  CHECK(f.count == 2);
  CHECK(f.labels == std::vector<int>{7, 9});  // original order kept
  REQUIRE(f.images.size() == 12);
  CHECK(f.images[6] == doctest::Approx(10.0f / 255.0f));  // first pixel of the third image
  CHECK(filter_digits(d, {3}).count == 0);
  CHECK_THROWS_WITH_AS(filter_digits(d, {10}), contains("digit 10"), std::runtime_error);
}

TEST_CASE("idx: the real MNIST and FashionMNIST test splits, where fetched") {
  for (const char* name : {"mnist", "fashion"}) {
    fs::path dir = repo_root() / "data" / name;
    if (!fs::exists(dir / "t10k-labels-idx1-ubyte") && !fs::exists(dir / "t10k-labels-idx1-ubyte.gz")) {
      MESSAGE("skipped: no " << dir.string() << " (run bash data/fetch.sh)");
      continue;
    }
    Dataset d = load_mnist_split(dir.string(), false);
    CHECK(d.count == 10000);
    CHECK(d.height == 28);
    CHECK(d.width == 28);
    std::vector<int> per_class(10, 0);
    for (int y : d.labels) per_class[size_t(y)]++;
    for (int c = 0; c < 10; ++c) CHECK(per_class[size_t(c)] >= 800);
    float lo = 1, hi = 0;
    for (float v : d.images) { lo = std::min(lo, v); hi = std::max(hi, v); }
    CHECK(lo == 0.0f);
    CHECK(hi == 1.0f);
  }
}

TEST_CASE("idx: slice takes examples [begin, end)") {
  Dataset d;
  d.count = 4; d.height = 1; d.width = 2;
  d.images = {0, 0, 1, 1, 2, 2, 3, 3};
  d.labels = {5, 6, 7, 8};
  const Dataset s = slice(d, 1, 3);
  CHECK(s.count == 2);
  CHECK(s.images == std::vector<float>{1, 1, 2, 2});
  CHECK(s.labels == std::vector<int>{6, 7});
  CHECK(slice(d, 4, 4).count == 0);
  CHECK_THROWS_AS(slice(d, 3, 2), std::runtime_error);
  CHECK_THROWS_AS(slice(d, 0, 5), std::runtime_error);
}
