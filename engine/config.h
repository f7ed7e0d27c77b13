// Plain-text configuration files for the drivers: one `key = value` per line, `#` starts a comment,
// blank lines ignored. Each key is a flag name of the driver's Cli, so a config file is exactly a
// saved command line: the same names, the same validation, the same one-line errors.
// Precedence: built-in defaults < config file < command-line flags.
#pragma once
#include <string>

#include "engine/cli.h"

// Applies the file's settings through cli (a Cli whose flags are bound to the same variables as the
// driver's command-line Cli). Throws std::runtime_error naming the file (and line, for a line that is
// not `key = value`) on a missing file, a folder, a binary file (a NUL byte) or one over 1 MB, a
// malformed line, a `config` key (files do not nest), an unknown key or a bad value.
void apply_config_file(Cli& cli, const std::string& path);

// The value of --name in argv ("--name value" or "--name=value"), or "" when absent. Used to find the
// config file before the command line proper is parsed (flags must override the file).
std::string find_flag_value(int argc, char** argv, const std::string& name);
