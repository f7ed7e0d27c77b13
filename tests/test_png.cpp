// PNG writers: valid files with the right size and colour type, and pixels that show content.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

// Decoding the written files back is the honest check; stb_image stays private to this file.
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#include <stb_image.h>
#pragma GCC diagnostic pop

#include "tests/temp_dir.h"
#include "engine/png.h"

namespace fs = std::filesystem;

namespace {

struct PngInfo {
  uint32_t width = 0, height = 0;
  int bit_depth = 0, color_type = 0;
};

// Signature plus the IHDR chunk, read straight from the bytes.
PngInfo read_ihdr(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(b.size() > 33);
  const std::string sig = "\x89PNG\r\n\x1a\n";
  REQUIRE(b.compare(0, 8, sig) == 0);
  REQUIRE(b.compare(12, 4, "IHDR") == 0);
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = (v << 8) | uint8_t(b[at + i]);
    return v;
  };
  PngInfo info;
  info.width = be32(16);
  info.height = be32(20);
  info.bit_depth = uint8_t(b[24]);
  info.color_type = uint8_t(b[25]);
  return info;
}

struct Pixels {
  int w = 0, h = 0, comp = 0;
  std::vector<uint8_t> data;
  const uint8_t* at(int x, int y) const { return &data[(size_t(y) * size_t(w) + size_t(x)) * size_t(comp)]; }
};

Pixels decode(const std::string& path) {
  Pixels p;
  unsigned char* raw = stbi_load(path.c_str(), &p.w, &p.h, &p.comp, 0);
  REQUIRE(raw != nullptr);
  p.data.assign(raw, raw + size_t(p.w) * size_t(p.h) * size_t(p.comp));
  stbi_image_free(raw);
  return p;
}

size_t distinct_colors(const Pixels& p) {
  std::set<uint32_t> seen;
  for (size_t i = 0; i + size_t(p.comp) <= p.data.size(); i += size_t(p.comp)) {
    uint32_t v = 0;
    for (int k = 0; k < p.comp; ++k) v = (v << 8) | p.data[i + size_t(k)];
    seen.insert(v);
  }
  return seen.size();
}

size_t count_color(const Pixels& p, uint8_t r, uint8_t g, uint8_t b) {
  size_t n = 0;
  for (size_t i = 0; i + 3 <= p.data.size(); i += 3)
    n += p.data[i] == r && p.data[i + 1] == g && p.data[i + 2] == b;
  return n;
}

}  // namespace

TEST_CASE("png: grayscale image grid geometry and pixel placement") {
  TempDir t("png_grid");
  const int n = 5, h = 4, w = 3;
  std::vector<float> imgs(size_t(n * h * w));
  for (size_t i = 0; i < imgs.size(); ++i) imgs[i] = float(i % 12) / 11.0f;
  imgs[0] = -3.0f;  // clamped to 0
  imgs[1] = 7.0f;   // clamped to 1
  const std::string path = t / "grid.png";
  write_image_grid(path, imgs.data(), n, 1, h, w, /*ncols=*/3, /*pad=*/2, /*upscale=*/2);

  PngInfo info = read_ihdr(path);
  CHECK(info.width == 3 * 6 + 4 * 2);   // 3 columns of 3*2 pixels, 4 gaps of 2
  CHECK(info.height == 2 * 8 + 3 * 2);  // 2 rows of 4*2 pixels, 3 gaps of 2
  CHECK(info.bit_depth == 8);
  CHECK(info.color_type == 0);  // grayscale

  Pixels p = decode(path);
  CHECK(*p.at(0, 0) == 128);  // the gap colour
  CHECK(*p.at(2, 2) == 0);    // image 0, pixel (0,0), clamped from -3
  CHECK(*p.at(3, 3) == 0);    // the same pixel, upscaled 2x
  CHECK(*p.at(4, 2) == 255);  // image 0, pixel (0,1), clamped from 7
  CHECK(*p.at(2 + 8, 2) == 0);  // image 1, pixel (0,0) = 0/11
  CHECK(*p.at(2 + 8 + 2, 2) == 23);  // image 1, pixel (0,1) = 1/11 -> 23
  CHECK(distinct_colors(p) > 5);
}

TEST_CASE("png: RGB grid uses CHW planes") {
  TempDir t("png_rgb");
  std::vector<float> img(3 * 2 * 2, 0.0f);
  for (int i = 0; i < 4; ++i) img[size_t(i)] = 1.0f;  // the red plane only
  img[8 + 3] = 1.0f;                                  // blue at pixel (1,1)
  const std::string path = t / "rgb.png";
  write_image_grid(path, img.data(), 1, 3, 2, 2, 4, 1);
  PngInfo info = read_ihdr(path);
  CHECK(info.width == 4);
  CHECK(info.height == 4);
  CHECK(info.color_type == 2);  // RGB
  Pixels p = decode(path);
  CHECK(p.at(1, 1)[0] == 255);
  CHECK(p.at(1, 1)[1] == 0);
  CHECK(p.at(1, 1)[2] == 0);
  CHECK(p.at(2, 2)[0] == 255);
  CHECK(p.at(2, 2)[2] == 255);
}

TEST_CASE("png: line plot with series, vlines and legend") {
  TempDir t("png_plot");
  LinePlot lp;
  lp.title = "CVAE loss (forgetting digit 1)";
  lp.xlabel = "step";
  lp.ylabel = "loss / example";
  Series a{"train", {}, {}}, b{"EWC: 100", {}, {}};
  for (int i = 0; i <= 200; ++i) {
    a.x.push_back(float(i * 10));
    a.y.push_back(200.0f * std::exp(-i / 50.0f) + 90.0f);
    b.x.push_back(float(i * 10));
    b.y.push_back(i == 100 ? NAN : 150.0f - 0.2f * i);
  }
  lp.series = {a, b};
  lp.vlines = {1000.0f};
  const std::string path = t / "plot.png";
  write_line_plot(path, lp);
  PngInfo info = read_ihdr(path);
  CHECK(info.width == 800);
  CHECK(info.height == 500);
  CHECK(info.color_type == 2);
  Pixels p = decode(path);
  CHECK(distinct_colors(p) > 4);
  CHECK(count_color(p, 31, 119, 180) > 200);  // first series colour
  CHECK(count_color(p, 255, 127, 14) > 200);  // second series colour

  LinePlot empty;  // nothing to draw still gives a valid framed plot
  empty.width = 320;
  empty.height = 200;
  write_line_plot(t / "empty.png", empty);
  CHECK(read_ihdr(t / "empty.png").width == 320);

  LinePlot bad;
  bad.series = {{"s", {1, 2}, {1}}};
  CHECK_THROWS_WITH_AS(write_line_plot(t / "bad.png", bad), doctest::Contains("2 x values but 1 y values"),
                       std::runtime_error);
}

TEST_CASE("png: points-only series draw separate dots, no line between them") {
  TempDir t("png_scatter");
  LinePlot lp;
  lp.title = "t-SNE";
  Series far{"digit 0", {0.0f, 100.0f}, {0.0f, 100.0f}}, near{"digit 1", {50.0f}, {0.0f}};
  far.points_only = near.points_only = true;
  lp.series = {far, near};
  write_line_plot(t / "scatter.png", lp);
  Pixels p = decode(t / "scatter.png");
  // Two whole 5x5 dots (the one in the top-right corner not hidden: a scatter's legend stands in the
  // margin, off the data) plus the legend's 6s x 6s marker at text scale 2; a line from (0,0) to
  // (100,100) would add hundreds of pixels of the first colour.
  const size_t first = count_color(p, 31, 119, 180);
  CHECK(first == 2 * 25 + 12 * 12);
  CHECK(count_color(p, 255, 127, 14) == 25 + 12 * 12);
  lp.series[0].points_only = false;
  write_line_plot(t / "line.png", lp);
  CHECK(count_color(decode(t / "line.png"), 31, 119, 180) > first + 200);
}

TEST_CASE("png: heatmap of a confusion matrix") {
  TempDir t("png_heat");
  Heatmap hm;
  hm.title = "confusion";
  hm.xlabel = "predicted";
  hm.ylabel = "true";
  hm.rows = hm.cols = 3;
  hm.values = {50, 2, 0, 3, 40, 7, 0, 1, 1135};
  const std::string path = t / "heat.png";
  write_heatmap(path, hm);
  PngInfo info = read_ihdr(path);
  CHECK(info.width > 3 * 24);
  CHECK(info.height > 3 * 24);
  CHECK(info.color_type == 2);
  Pixels p = decode(path);
  CHECK(count_color(p, 8, 48, 107) > 100);     // the largest cell is darkest blue
  CHECK(count_color(p, 247, 251, 255) > 100);  // the smallest cells are near white
  CHECK(count_color(p, 255, 255, 255) > 0);    // white digits on the dark cell

  Heatmap bad = hm;
  bad.values.pop_back();
  CHECK_THROWS_WITH_AS(write_heatmap(t / "bad.png", bad), doctest::Contains("8 values for 3x3"),
                       std::runtime_error);
  bad = hm;
  bad.row_labels = {"a", "b"};
  CHECK_THROWS_AS(write_heatmap(t / "bad.png", bad), std::runtime_error);
}

TEST_CASE("png: bad arguments and unwritable paths throw") {
  TempDir t("png_bad");
  std::vector<float> img(16, 0.5f);
  CHECK_THROWS_WITH_AS(write_image_grid(t / "x.png", img.data(), 1, 2, 2, 2, 1), doctest::Contains("channels"),
                       std::runtime_error);
  CHECK_THROWS_AS(write_image_grid(t / "x.png", img.data(), 0, 1, 2, 2, 1), std::runtime_error);
  CHECK_THROWS_AS(write_image_grid(t / "x.png", img.data(), 1, 1, 2, 2, 0), std::runtime_error);
  CHECK_THROWS_WITH_AS(write_image_grid(t / "missing/x.png", img.data(), 1, 1, 2, 2, 1),
                       doctest::Contains("missing/x.png"), std::runtime_error);
}
