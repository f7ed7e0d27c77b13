// data/fetch.sh in its offline mode (AMNESIA_DATA_SRC): full-size synthetic IDX files are copied,
// converted between raw and gzip, verified, found "already present" on a rerun, and a source
// with a wrong magic number makes the script fail. The loader then reads what the script wrote.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/temp_dir.h"
#include "engine/idx.h"

namespace fs = std::filesystem;

namespace {

fs::path repo_root() { return fs::path(__FILE__).parent_path().parent_path(); }

// An IDX file of the real size, zero pixels / labels except the first label (so labels vary).
std::string idx_bytes(bool images, uint32_t count) {
  std::string b;
  auto be32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b += char(v >> s);
  };
  be32(images ? 0x00000803 : 0x00000801);
  be32(count);
  if (images) {
    be32(28);
    be32(28);
  }
  b.resize(b.size() + size_t(count) * (images ? 784 : 1), '\0');
  if (!images) b[8] = 3;
  return b;
}

void write_raw(const fs::path& p, const std::string& b) {
  std::ofstream(p, std::ios::binary).write(b.data(), std::streamsize(b.size()));
}

void write_gz(const fs::path& p, const std::string& b) {
  gzFile f = gzopen(p.c_str(), "wb1");  // fast level: the data is nearly all zeros
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, b.data(), unsigned(b.size())) == int(b.size()));
  gzclose(f);
}

struct Run {
  int rc = -1;
  std::string output;
};

Run run_script(const std::string& env_and_args) {
  const std::string cmd = env_and_args + " 2>&1";
  Run r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

const char* kNames[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                        "t10k-labels-idx1-ubyte"};

// MNIST given gzipped and FashionMNIST given raw, so the script has to convert both ways.
void make_source(const fs::path& src) {
  fs::create_directories(src / "mnist");
  fs::create_directories(src / "fashion");
  const uint32_t counts[] = {60000, 60000, 10000, 10000};
  for (int i = 0; i < 4; ++i) {
    std::string b = idx_bytes(i % 2 == 0, counts[i]);
    write_gz(src / "mnist" / (std::string(kNames[i]) + ".gz"), b);
    write_raw(src / "fashion" / kNames[i], b);
  }
}

}  // namespace

TEST_CASE("fetch.sh: offline copy, verification, idempotence, failure on a bad source") {
  const fs::path script = repo_root() / "data" / "fetch.sh";
  if (!fs::exists(script) || std::system("command -v bash gzip od >/dev/null 2>&1") != 0) {
    MESSAGE("skipped: no data/fetch.sh at " << script.string() << " or no bash/gzip/od");
    return;
  }
  TempDir t("fetch");
  make_source(t.path / "src");
  const std::string base = "bash '" + script.string() + "' --dest '" + (t.path / "dest").string() + "'";
  const std::string with_src = "AMNESIA_DATA_SRC='" + (t.path / "src").string() + "' " + base;

  Run first = run_script(with_src);
  CAPTURE(first.output);
  REQUIRE(first.rc == 0);
  for (const char* n : kNames) {
    CHECK(fs::file_size(t.path / "dest" / "mnist" / n) == fs::file_size(t.path / "src" / "fashion" / n));
    CHECK(fs::exists(t.path / "dest" / "fashion" / (std::string(n) + ".gz")));
  }
  Dataset d = load_mnist_split((t.path / "dest" / "fashion").string(), false);
  CHECK(d.count == 10000);
  CHECK(d.labels[0] == 3);

  Run again = run_script(with_src);
  CAPTURE(again.output);
  CHECK(again.rc == 0);
  CHECK(again.output.find("already present") != std::string::npos);

  // A damaged destination file is replaced; a bad source makes the script fail loudly.
  std::string bad = idx_bytes(false, 10000);
  bad[3] = 0x02;
  write_raw(t.path / "dest" / "mnist" / "t10k-labels-idx1-ubyte", bad);
  write_gz(t.path / "src" / "mnist" / "t10k-labels-idx1-ubyte.gz", bad);
  Run broken = run_script(with_src);
  CAPTURE(broken.output);
  CHECK(broken.rc != 0);
  CHECK(broken.output.find("magic 0x00000802, expected 0x00000801") != std::string::npos);
  CHECK(broken.output.find("t10k-labels-idx1-ubyte") != std::string::npos);

  Run unknown = run_script(base + " --bogus");
  CHECK(unknown.rc != 0);
  CHECK(unknown.output.find("unknown argument '--bogus'") != std::string::npos);
}
