#include "engine/config.h"
#include "engine/text.h"

#include <fstream>
#include <stdexcept>
#include <vector>

void apply_config_file(Cli& cli, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the config file");
  std::vector<std::string> args = {path};
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos || trim(line.substr(0, eq)).empty())
      throw std::runtime_error(path + ":" + std::to_string(number) + ": expected 'key = value', got '" + line + "'");
    args.push_back("--" + trim(line.substr(0, eq)) + "=" + trim(line.substr(eq + 1)));
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
