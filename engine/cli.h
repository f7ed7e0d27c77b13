// Command-line handling for the experiment drivers: a typed flag parser (run_guarded, the one-line
// error reporting and the polite stop on Ctrl-C or SIGTERM, is in engine/run/stop.h).
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/run/stop.h"  // run_guarded, interrupted: the programs that parse flags run under them
#include "engine/text.h"      // parse_digit_list, other_digits: the drivers' digit flags

class Cli {
 public:
  Cli(std::string program, std::string summary);

  // Registers --name bound to *v; the current value of *v is the default shown in --help.
  // Numbers must lie in [min, max]; strings must be one of choices when choices is not empty.
  void add(const std::string& name, int* v, const std::string& help, long min, long max);
  void add(const std::string& name, int64_t* v, const std::string& help, int64_t min, int64_t max);
  void add(const std::string& name, float* v, const std::string& help, double min, double max);
  void add(const std::string& name, std::string* v, const std::string& help,
           std::vector<std::string> choices = {});
  // --name sets *v to true (--name=false / =0 / =no sets it to false).
  void add_switch(const std::string& name, bool* v, const std::string& help);

  // Accepts "--name value" and "--name=value". Returns false when --help (or -h) was given and
  // the usage was printed to stdout; throws std::runtime_error on any bad argument, e.g.
  // "--steps: expected an integer >= 1, got '-5'". A flag given twice is an error.
  bool parse(int argc, char** argv);
  std::string usage() const;
  // Every flag's name and current value as text (numbers at full precision), in declaration order:
  // what a run record stores.
  std::vector<std::pair<std::string, std::string>> values() const;

 private:
  enum class Kind { Int, Int64, Float, String, Switch };
  struct Flag {
    std::string name, help;
    Kind kind = Kind::Int;
    void* target = nullptr;
    int64_t imin = 0, imax = 0;  // Int, Int64
    double fmin = 0, fmax = 0;   // Float
    std::vector<std::string> choices;
    std::string default_text;
    bool seen = false;

    std::string expectation() const;     // "expected an integer >= 1", ...
    bool accept(const std::string& value);  // parses, range-checks and stores; false if invalid
  };
  std::string program_, summary_;
  std::vector<Flag> flags_;

  Flag& declare(const std::string& name, Kind kind, void* target, const std::string& help);
  Flag* find(const std::string& name);
  std::string suggest(const std::string& name) const;
};

