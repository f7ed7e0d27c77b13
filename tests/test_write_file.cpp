// Result files report write failures: a full disk (/dev/full) or a missing folder is an error naming the
// file, for CSV/Markdown text and for PNG figures alike, never a silent success.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/png.h"
#include "engine/write_file.h"
#include "tests/temp_dir.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// out/<name> as a link to /dev/full, where every write fails with ENOSPC: a disk that filled up.
std::string full_disk_file(const TempDir& t, const std::string& name) {
  const std::string path = t / name;
  fs::create_symlink("/dev/full", path);
  return path;
}

}  // namespace

TEST_CASE("write_file writes the bytes and reports a full disk or a missing folder") {
  TempDir t("write_file");
  const std::string text("a,b\n1,2\n\0binary", 16);
  write_file(t / "ok.csv", text);
  CHECK(slurp(t / "ok.csv") == text);
  write_file(t / "ok.csv", "shorter");
  CHECK(slurp(t / "ok.csv") == "shorter");
  REQUIRE(fs::exists("/dev/full"));
  CHECK_THROWS_WITH_AS(write_file(full_disk_file(t, "audit.csv"), text),
                       contains("cannot write " + (t / "audit.csv") + ": No space left on device"), std::runtime_error);
  CHECK_THROWS_WITH_AS(write_file(t / "missing/x.md", "x"), contains("cannot write " + (t / "missing/x.md")),
                       std::runtime_error);
}

TEST_CASE("PNG writers report a full disk instead of claiming success") {
  TempDir t("png_full");
  REQUIRE(fs::exists("/dev/full"));
  std::vector<float> img(16, 0.5f);
  CHECK_THROWS_WITH_AS(write_image_grid(full_disk_file(t, "grid.png"), img.data(), 1, 1, 4, 4, 1),
                       contains("No space left on device"), std::runtime_error);
  LinePlot p;
  p.series.push_back({"loss", {0, 1, 2}, {3, 2, 1}});
  CHECK_THROWS_WITH_AS(write_line_plot(full_disk_file(t, "plot.png"), p), contains("plot.png"), std::runtime_error);
  Heatmap h;
  h.rows = h.cols = 2;
  h.values = {1, 2, 3, 4};
  CHECK_THROWS_WITH_AS(write_heatmap(full_disk_file(t, "heat.png"), h), contains("No space left on device"),
                       std::runtime_error);
}
