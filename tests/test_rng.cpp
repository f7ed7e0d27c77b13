#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "engine/ops/rng.h"

TEST_CASE("counter-based generator: reproducible, offset-addressable, right moments") {
  const int n = 200000;
  std::vector<float> a(n), b(n), tail(10), u(n);
  cpu::normal(a.data(), n, 17, 0);
  cpu::normal(b.data(), n, 17, 0);
  CHECK(a == b);
  cpu::normal(tail.data(), 10, 17, 500);
  for (int i = 0; i < 10; ++i) CHECK(tail[i] == a[500 + i]);
  cpu::normal(b.data(), n, 18, 0);
  CHECK(a != b);
  double mean = 0, var = 0;
  for (float x : a) mean += x;
  mean /= n;
  for (float x : a) var += (x - mean) * (x - mean);
  var /= n;
  CHECK(std::fabs(mean) < 0.01);
  CHECK(std::fabs(var - 1.0) < 0.02);

  cpu::uniform(u.data(), n, 5, 0);
  double um = 0;
  for (float x : u) {
    REQUIRE(x >= 0.0f);
    REQUIRE(x < 1.0f);
    um += x;
  }
  CHECK(std::fabs(um / n - 0.5) < 0.005);
}
