#include "engine/config.h"
#include "engine/text.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace {

constexpr size_t kMaxConfigBytes = 1 << 20;  // a saved command line; anything larger is not one

// The file's text: a folder, an unreadable file, a binary one (a NUL byte would cut the value short
// where it becomes a C string) or one too large to be a config is refused, naming the file.
std::string read_config_text(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw std::runtime_error(path + ": is a folder, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the config file");
  std::string text;
  char chunk[1 << 16];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, size_t(in.gcount()));
    if (text.size() > kMaxConfigBytes) throw std::runtime_error(path + ": larger than 1 MB, not a config file");
  }
  if (in.bad()) throw std::runtime_error(path + ": cannot read the config file");
  const size_t nul = text.find('\0');
  if (nul != std::string::npos)
    throw std::runtime_error(path + ":" + std::to_string(1 + std::count(text.begin(), text.begin() + long(nul), '\n')) +
                             ": a NUL byte (a binary file, not a config file?)");
  return text;
}

}  // namespace

void apply_config_file(Cli& cli, const std::string& path) {
  std::istringstream in(read_config_text(path));
  std::vector<std::string> args = {path};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    const size_t eq = line.find('=');
    if (eq == std::string::npos || trim(line.substr(0, eq)).empty())
      throw std::runtime_error(where + "expected 'key = value', got '" + line + "'");
    const std::string key = trim(line.substr(0, eq));
    // The file was chosen before it was read, so a `config` line inside it could only be ignored.
    if (key == "config") throw std::runtime_error(where + "a config file cannot name another config file");
    args.push_back("--" + key + "=" + trim(line.substr(eq + 1)));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  try {
    cli.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

std::string find_flag_value(int argc, char** argv, const std::string& name) {
  const std::string flag = "--" + name;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == flag && i + 1 < argc) return argv[i + 1];
    if (a.rfind(flag + "=", 0) == 0) return a.substr(flag.size() + 1);
  }
  return "";
}
