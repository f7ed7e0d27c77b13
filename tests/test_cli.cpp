// Flag parsing, digit lists, and run_guarded's error reporting and Ctrl-C handling.
#include <doctest/doctest.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "engine/cli.h"

namespace {

// argv from a list of strings; the strings live as long as the Args object.
struct Args {
  std::vector<std::string> store;
  std::vector<char*> ptrs;
  Args(std::initializer_list<const char*> a) : store(a.begin(), a.end()) {
    store.insert(store.begin(), "prog");
    for (std::string& s : store) ptrs.push_back(&s[0]);
  }
  int argc() { return int(ptrs.size()); }
  char** argv() { return ptrs.data(); }
};

struct Flags {
  int steps = 3000;
  int64_t seed = 1;
  float lr = 1e-3f;
  std::string backend = "auto";
  std::string out = "runs/x";
  bool verbose = false;
  Cli cli{"sa_train", "Selective Amnesia on MNIST"};
  Flags() {
    cli.add("steps", &steps, "training steps", 1, 1000000);
    cli.add("seed", &seed, "random seed", 0, INT64_MAX);
    cli.add("lr", &lr, "learning rate", 0.0, 1.0);
    cli.add("backend", &backend, "device", {"auto", "cpu", "cuda"});
    cli.add("out", &out, "output folder");
    cli.add_switch("verbose", &verbose, "print more");
  }
  bool parse(std::initializer_list<const char*> a) {
    Args args(a);
    return cli.parse(args.argc(), args.argv());
  }
};

// The error message of parsing a, or "" when it parses.
std::string error_of(std::initializer_list<const char*> a) {
  Flags f;
  try {
    f.parse(a);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::string digit_error(const std::string& s) {
  try {
    parse_digit_list(s);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

// Runs fn with stderr sent to a temp file and returns what it wrote.
template <class Fn>
std::string capture_stderr(Fn fn) {
  std::string path = "/tmp/amnesia_test_" + std::to_string(getpid()) + "_stderr.txt";
  std::fflush(stderr);
  int saved = dup(STDERR_FILENO);
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  dup2(fileno(f), STDERR_FILENO);
  fn();
  std::fflush(stderr);
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::fclose(f);
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return text;
}

}  // namespace

TEST_CASE("cli: both flag forms, defaults kept for flags not given") {
  Flags f;
  CHECK(f.parse({"--steps", "500", "--lr=0.01", "--backend=cpu", "--verbose", "--seed", "9000000000"}));
  CHECK(f.steps == 500);
  CHECK(f.lr == doctest::Approx(0.01f));
  CHECK(f.backend == "cpu");
  CHECK(f.verbose);
  CHECK(f.seed == 9000000000LL);
  CHECK(f.out == "runs/x");

  Flags g;
  CHECK(g.parse({"--verbose=false", "--out", "-weird-but-allowed", "--lr", "-0"}));
  CHECK_FALSE(g.verbose);
  CHECK(g.out == "-weird-but-allowed");
  CHECK(g.steps == 3000);
}

TEST_CASE("cli: bad values give one-line messages naming the flag") {
  Flags probe;
  probe.cli.add("iters", &probe.steps, "x", 1, LONG_MAX);
  Args a{"--iters", "-5"};
  CHECK_THROWS_WITH_AS(probe.cli.parse(a.argc(), a.argv()), "--iters: expected an integer >= 1, got '-5'",
                       std::runtime_error);

  CHECK(error_of({"--steps", "-5"}) == "--steps: expected an integer in [1, 1000000], got '-5'");
  CHECK(error_of({"--steps", "x"}) == "--steps: expected an integer in [1, 1000000], got 'x'");
  CHECK(error_of({"--steps=5x"}) == "--steps: expected an integer in [1, 1000000], got '5x'");
  CHECK(error_of({"--steps", "1.5"}) == "--steps: expected an integer in [1, 1000000], got '1.5'");
  CHECK(error_of({"--steps", " 5"}) == "--steps: expected an integer in [1, 1000000], got ' 5'");
  CHECK(error_of({"--steps", "99999999999999999999"}).find("expected an integer") != std::string::npos);
  CHECK(error_of({"--lr", "2"}) == "--lr: expected a number in [0, 1], got '2'");
  CHECK(error_of({"--lr", "nan"}) == "--lr: expected a number in [0, 1], got 'nan'");
  CHECK(error_of({"--lr="}) == "--lr: expected a number in [0, 1], got ''");
  CHECK(error_of({"--backend", "gpu"}) == "--backend: expected one of auto|cpu|cuda, got 'gpu'");
  CHECK(error_of({"--verbose=maybe"}).find("--verbose:") == 0);
  CHECK(error_of({"--steps"}) == "--steps: missing value (expected an integer in [1, 1000000])");
  CHECK(error_of({"--steps", "--lr", "0.1"}).find("--steps: missing value") == 0);
  CHECK(error_of({"--stesp", "5"}) == "unknown flag --stesp (did you mean --steps?); see --help");
  CHECK(error_of({"--zzzzzzz", "5"}) == "unknown flag --zzzzzzz; see --help");
  CHECK(error_of({"5"}).find("unexpected argument '5'") == 0);
  CHECK(error_of({"-s", "5"}).find("unexpected argument '-s'") == 0);
  CHECK(error_of({"--steps", "5", "--steps=6"}) == "--steps given twice");
  // The bounds themselves are inclusive; one past them is not.
  CHECK(error_of({"--steps", "1000000", "--lr", "0"}) == "");
  CHECK(error_of({"--steps", "1", "--lr", "1"}) == "");
  CHECK(error_of({"--steps", "0"}) == "--steps: expected an integer in [1, 1000000], got '0'");
  CHECK(error_of({"--steps", "1000001"}) == "--steps: expected an integer in [1, 1000000], got '1000001'");
  CHECK(error_of({"--lr", "1.0001"}) == "--lr: expected a number in [0, 1], got '1.0001'");
  CHECK(error_of({"--lr", "-0.0001"}) == "--lr: expected a number in [0, 1], got '-0.0001'");
}

TEST_CASE("cli: --help prints usage listing every flag, type and default") {
  Flags g;
  const std::string u = g.cli.usage();
  CHECK(u.find("usage: sa_train [flags]") == 0);
  CHECK(u.find("Selective Amnesia on MNIST") != std::string::npos);
  CHECK(u.find("--steps <int>") != std::string::npos);
  CHECK(u.find("default: 3000; an integer in [1, 1000000]") != std::string::npos);
  CHECK(u.find("--seed <int64>") != std::string::npos);
  CHECK(u.find("--lr <float>") != std::string::npos);
  CHECK(u.find("default: 0.001") != std::string::npos);
  CHECK(u.find("one of auto|cpu|cuda") != std::string::npos);
  CHECK(u.find("--out <string>") != std::string::npos);
  CHECK(u.find("--verbose ") != std::string::npos);
  CHECK(u.find("default: off") != std::string::npos);
  CHECK(u.find("--help") != std::string::npos);

  std::string captured;
  {
    Flags h;
    std::streambuf* old = std::cout.rdbuf();
    std::ostringstream sink;
    std::cout.rdbuf(sink.rdbuf());
    bool go_on = h.parse({"--steps", "5", "--help"});
    std::cout.rdbuf(old);
    CHECK_FALSE(go_on);
    captured = sink.str();
  }
  CHECK(captured.find("--backend <string>") != std::string::npos);

  Cli dup("p", "");
  int x = 0;
  dup.add("x", &x, "", 0, 1);
  CHECK_THROWS_AS(dup.add("x", &x, "", 0, 1), std::runtime_error);
  CHECK_THROWS_AS(dup.add("--y", &x, "", 0, 1), std::runtime_error);
}

TEST_CASE("cli: parse_digit_list") {
  CHECK(parse_digit_list("0,1") == std::vector<int>{0, 1});
  CHECK(parse_digit_list("7") == std::vector<int>{7});
  CHECK(parse_digit_list(" 3 , 1 ") == std::vector<int>{3, 1});
  CHECK(parse_digit_list("0,1,2,3,4,5,6,7,8") == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8});
  CHECK(parse_digit_list("2", 3) == std::vector<int>{2});
  CHECK(digit_error("").find("empty") != std::string::npos);
  CHECK(digit_error("x") == "digit list 'x': 'x' is not an integer");
  CHECK(digit_error("1.5") == "digit list '1.5': '1.5' is not an integer");
  CHECK(digit_error("11") == "digit list '11': digit 11 is outside 0..9");
  CHECK(digit_error("-1").find("outside 0..9") != std::string::npos);
  CHECK(digit_error("1,1") == "digit list '1,1': digit 1 is listed twice");
  CHECK(digit_error("1,,2").find("empty item") != std::string::npos);
  CHECK(digit_error("1,").find("trailing comma") != std::string::npos);
  CHECK(digit_error("0,1,2,3,4,5,6,7,8,9") == "digit list '0,1,2,3,4,5,6,7,8,9': you cannot forget every digit");
  CHECK_THROWS_AS(parse_digit_list("0,1", 2), std::runtime_error);
}

TEST_CASE("cli: run_guarded reports errors and turns the first SIGINT into a flag") {
  CHECK(run_guarded("prog", [] { return 0; }) == 0);
  CHECK(run_guarded("prog", [] { return 3; }) == 3);

  int rc = -1;
  std::string err = capture_stderr([&] {
    rc = run_guarded("sa_train", []() -> int { throw std::runtime_error("--steps: expected an integer >= 1, got '-5'"); });
  });
  CHECK(rc == 2);
  CHECK(err == "sa_train: error: --steps: expected an integer >= 1, got '-5'\n");

  bool seen_inside = false;
  err = capture_stderr([&] {
    rc = run_guarded("prog", [&] {
      CHECK_FALSE(interrupted());
      std::raise(SIGINT);  // the process survives: only the flag is set
      seen_inside = interrupted();
      return 0;
    });
  });
  CHECK(rc == 0);
  CHECK(seen_inside);
  CHECK(err.find("interrupted") != std::string::npos);
  // The next guarded run starts with the flag cleared.
  CHECK(run_guarded("prog", [] { return interrupted() ? 1 : 0; }) == 0);
}

TEST_CASE("cli: a free-text flag without its value says a value is expected") {
  std::string name;
  Cli cli("prog", "test");
  cli.add("name", &name, "any text");
  Args a{"--name"};
  CHECK_THROWS_WITH_AS(cli.parse(a.argc(), a.argv()), "--name: missing value (expected a value)", std::runtime_error);
}
