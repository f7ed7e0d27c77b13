// The config reader refuses what is not a config file: a folder, a binary file, one over 1 MB, and a
// `config` line (which could only be ignored), each naming the file. (Its ordinary use: test_lntl.cpp.)
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "engine/config.h"
#include "tests/temp_dir.h"

namespace {

struct Settings {
  int epochs = 1;
  std::string name = "default", config;
  Cli cli{"t", "test"};
  Settings() {
    cli.add("epochs", &epochs, "epochs", 1, 1000);
    cli.add("name", &name, "name");
    cli.add("config", &config, "a config file");
  }
};

void spit(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary).write(text.data(), std::streamsize(text.size()));
}

}  // namespace

TEST_CASE("config: a folder, NUL bytes, a huge file and a nested config are refused") {
  TempDir t("config_bad");
  Settings s;
  CHECK_THROWS_WITH_AS(apply_config_file(s.cli, t.path.string()), contains(t.path.string() + ": is a folder"),
                       std::runtime_error);
  // Before, the name was cut at the NUL ("ab") and the run went on.
  spit(t / "nul.conf", std::string("epochs = 3\nname = ab\0cd\n", 24));
  CHECK_THROWS_WITH_AS(apply_config_file(s.cli, t / "nul.conf"), contains(t / "nul.conf" + ":2: a NUL byte"),
                       std::runtime_error);
  spit(t / "nested.conf", "epochs = 3\nconfig = other.conf\n");
  CHECK_THROWS_WITH_AS(apply_config_file(s.cli, t / "nested.conf"),
                       contains(t / "nested.conf" + ":2: a config file cannot name another config file"),
                       std::runtime_error);
  spit(t / "huge.conf", "# " + std::string(1 << 20, 'x') + "\n");
  CHECK_THROWS_WITH_AS(apply_config_file(s.cli, t / "huge.conf"), contains("larger than 1 MB"),
                       std::runtime_error);
  Settings ok;
  spit(t / "ok.conf", "epochs = 3\r\nname = a b\r\n");
  apply_config_file(ok.cli, t / "ok.conf");
  CHECK(ok.epochs == 3);
  CHECK(ok.name == "a b");
}
