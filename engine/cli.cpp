#include "engine/cli.h"
#include "engine/text.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>

namespace {

[[noreturn]] void fail(const std::string& msg) { throw std::runtime_error(msg); }

std::string fmt_real(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// Edit distance, for "did you mean" on a mistyped flag.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Cli

Cli::Cli(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

Cli::Flag& Cli::declare(const std::string& name, Kind kind, void* target, const std::string& help) {
  if (name.empty() || name[0] == '-' || name.find('=') != std::string::npos || name == "help")
    fail(program_ + ": invalid flag name '" + name + "' (give it without dashes)");
  if (find(name)) fail(program_ + ": flag --" + name + " declared twice");
  Flag f;
  f.name = name;
  f.help = help;
  f.kind = kind;
  f.target = target;
  flags_.push_back(f);
  return flags_.back();
}

void Cli::add(const std::string& name, int* v, const std::string& help, long min, long max) {
  Flag& f = declare(name, Kind::Int, v, help);
  f.imin = std::max<int64_t>(min, INT_MIN);
  f.imax = std::min<int64_t>(max, INT_MAX);
  f.default_text = std::to_string(*v);
}

void Cli::add(const std::string& name, int64_t* v, const std::string& help, int64_t min,
              int64_t max) {
  Flag& f = declare(name, Kind::Int64, v, help);
  f.imin = min;
  f.imax = max;
  f.default_text = std::to_string(*v);
}

void Cli::add(const std::string& name, float* v, const std::string& help, double min, double max) {
  Flag& f = declare(name, Kind::Float, v, help);
  f.fmin = min;
  f.fmax = max;
  f.default_text = fmt_real(*v);
}

void Cli::add(const std::string& name, std::string* v, const std::string& help,
              std::vector<std::string> choices) {
  Flag& f = declare(name, Kind::String, v, help);
  f.choices = std::move(choices);
  f.default_text = v->empty() ? "\"\"" : *v;
}

void Cli::add_switch(const std::string& name, bool* v, const std::string& help) {
  Flag& f = declare(name, Kind::Switch, v, help);
  f.default_text = *v ? "on" : "off";
}

Cli::Flag* Cli::find(const std::string& name) {
  for (Flag& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

std::string Cli::suggest(const std::string& name) const {
  const Flag* best = nullptr;
  size_t best_d = 3;  // farther than 2 edits is no longer a typo
  for (const Flag& f : flags_) {
    size_t d = edit_distance(name, f.name);
    if (d < best_d) { best_d = d; best = &f; }
  }
  return best ? " (did you mean --" + best->name + "?)" : "";
}

// "expected an integer >= 1" and friends: states the valid range as the flag declared it.
std::string Cli::Flag::expectation() const {
  if (kind == Kind::String) return choices.empty() ? "expected a value" : "expected one of " + join(choices, "|");
  if (kind == Kind::Switch) return "expected true/false, 1/0, yes/no or on/off";
  if (kind == Kind::Float) {
    bool lo = std::isfinite(fmin) && fmin > -1e300, hi = std::isfinite(fmax) && fmax < 1e300;
    if (lo && hi) return "expected a number in [" + fmt_real(fmin) + ", " + fmt_real(fmax) + "]";
    if (lo) return "expected a number >= " + fmt_real(fmin);
    if (hi) return "expected a number <= " + fmt_real(fmax);
    return "expected a number";
  }
  const int64_t tmin = kind == Kind::Int ? INT_MIN : INT64_MIN;
  const int64_t tmax = kind == Kind::Int ? INT_MAX : INT64_MAX;
  if (imin > tmin && imax < tmax)
    return "expected an integer in [" + std::to_string(imin) + ", " + std::to_string(imax) + "]";
  if (imin > tmin) return "expected an integer >= " + std::to_string(imin);
  if (imax < tmax) return "expected an integer <= " + std::to_string(imax);
  return "expected an integer";
}

bool Cli::Flag::accept(const std::string& value) {
  switch (kind) {
    case Kind::Int:
    case Kind::Int64: {
      int64_t v = 0;
      if (!parse_integer(value, &v) || v < imin || v > imax) return false;
      if (kind == Kind::Int) *static_cast<int*>(target) = int(v);
      else *static_cast<int64_t*>(target) = v;
      return true;
    }
    case Kind::Float: {
      double v = 0;
      if (!parse_real(value, &v) || v < fmin || v > fmax) return false;
      *static_cast<float*>(target) = float(v);
      return true;
    }
    case Kind::String: {
      bool ok = choices.empty();
      for (const std::string& c : choices) ok = ok || c == value;
      if (ok) *static_cast<std::string*>(target) = value;
      return ok;
    }
    case Kind::Switch: {
      bool on = value == "true" || value == "1" || value == "yes" || value == "on";
      bool off = value == "false" || value == "0" || value == "no" || value == "off";
      if (on || off) *static_cast<bool*>(target) = on;
      return on || off;
    }
  }
  return false;
}

bool Cli::parse(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::cout << usage();
      return false;
    }
    if (arg.size() < 3 || arg.compare(0, 2, "--") != 0)
      fail("unexpected argument '" + arg + "' (flags look like --name value; see --help)");
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    Flag* f = find(name);
    if (!f) fail("unknown flag --" + name + suggest(name) + "; see --help");
    if (f->seen) fail("--" + name + " given twice");
    f->seen = true;

    std::string value;
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (f->kind == Kind::Switch) {
      value = "true";
    } else {
      // A following "--flag" means the value was forgotten, not that it is the value.
      if (i + 1 >= argc || std::string(argv[i + 1]).compare(0, 2, "--") == 0)
        fail("--" + name + ": missing value (" + f->expectation() + ")");
      value = argv[++i];
    }
    if (!f->accept(value)) fail("--" + name + ": " + f->expectation() + ", got '" + value + "'");
  }
  return true;
}

std::string Cli::usage() const {
  auto type_name = [](Kind k) {
    switch (k) {
      case Kind::Int: return " <int>";
      case Kind::Int64: return " <int64>";
      case Kind::Float: return " <float>";
      case Kind::String: return " <string>";
      case Kind::Switch: return "";
    }
    return "";
  };
  std::vector<std::string> left;
  size_t width = std::string("--help").size();
  for (const Flag& f : flags_) {
    left.push_back("--" + f.name + type_name(f.kind));
    width = std::max(width, left.back().size());
  }
  std::ostringstream out;
  out << "usage: " << program_ << " [flags]\n";
  if (!summary_.empty()) out << summary_ << "\n";
  out << "\nflags:\n";
  for (size_t i = 0; i < flags_.size(); ++i) {
    const Flag& f = flags_[i];
    std::string extra = "default: " + f.default_text;
    if (f.kind != Kind::Switch) extra += "; " + f.expectation().substr(std::string("expected ").size());
    if (f.kind == Kind::String && f.choices.empty()) extra = "default: " + f.default_text;
    out << "  " << left[i] << std::string(width - left[i].size() + 2, ' ') << f.help << " ("
        << extra << ")\n";
  }
  out << "  --help" << std::string(width - 6 + 2, ' ') << "print this help and exit\n";
  return out.str();
}

std::vector<std::pair<std::string, std::string>> Cli::values() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const Flag& f : flags_) {
    std::string v;
    switch (f.kind) {
      case Kind::Int: v = std::to_string(*static_cast<const int*>(f.target)); break;
      case Kind::Int64: v = std::to_string(*static_cast<const int64_t*>(f.target)); break;
      case Kind::Float: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.9g", double(*static_cast<const float*>(f.target)));
        v = buf;
        break;
      }
      case Kind::String: v = *static_cast<const std::string*>(f.target); break;
      case Kind::Switch: v = *static_cast<const bool*>(f.target) ? "true" : "false"; break;
    }
    out.emplace_back(f.name, v);
  }
  return out;
}
