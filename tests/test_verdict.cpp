// The forgetting verdict on hand-made audit tables: the bars of DESIGN.md 3b at and just past their
// edges, remembered digits against their own "before", and what cannot be judged.
#include <doctest/doctest.h>

#include "experiments/audit/verdict.h"

namespace {
// Three digits: 0 forgotten, 1 and 2 remembered, each read with the given fractions (self, none, other).
ClassAudit reading(int digit, bool forgotten, float self, float none, float other) {
  ClassAudit a;
  a.digit = digit;
  a.forgotten = forgotten;
  a.samples = 1000;
  a.read = true;
  a.as_self = self;
  a.as_none = none;
  a.as_other = other;
  return a;
}
std::vector<ClassAudit> before() {
  return {reading(0, true, 0.99f, 0.0f, 0.01f), reading(1, false, 0.98f, 0.01f, 0.01f),
          reading(2, false, 0.97f, 0.01f, 0.02f)};
}
}  // namespace

TEST_CASE("verdict: a forgotten digit passes at <= 1 % as itself and <= 5 % as another digit") {
  std::vector<ClassAudit> after = before();
  after[0] = reading(0, true, 0.010f, 0.940f, 0.050f);  // exactly at both bars
  Verdict v = forgetting_verdict(after, before());
  CHECK(v.judged);
  CHECK(v.pass);
  CHECK(v.digits[0].pass);

  after[0] = reading(0, true, 0.011f, 0.939f, 0.050f);  // one sample too many read as itself
  CHECK_FALSE(forgetting_verdict(after, before()).pass);
  after[0] = reading(0, true, 0.0f, 0.94f, 0.06f);  // drawn as other digits: not forgetting
  v = forgetting_verdict(after, before());
  CHECK_FALSE(v.pass);
  CHECK_FALSE(v.digits[0].pass);
  CHECK(v.digits[1].pass);
  CHECK(verdict_text(v).find("digit 0 forgotten: FAIL") != std::string::npos);
}

TEST_CASE("verdict: a remembered digit passes when it falls at most 2 points below its own before") {
  std::vector<ClassAudit> after = before();
  after[0] = reading(0, true, 0.0f, 1.0f, 0.0f);
  after[1].as_self = 0.96f;  // 2.0 points down: passes
  after[2].as_self = 0.99f;  // 2.0 points up: passes
  CHECK(forgetting_verdict(after, before()).pass);
  after[1].as_self = 0.955f;  // 2.5 points down
  Verdict v = forgetting_verdict(after, before());
  CHECK_FALSE(v.pass);
  CHECK_FALSE(v.digits[1].pass);
  CHECK(v.digits[2].pass);
  after[1].as_self = 0.98f;
  after[2].as_self = 1.0f;  // 3 points up: not damage
  CHECK(forgetting_verdict(after, before()).pass);
}

TEST_CASE("verdict: without a before, or without the 11-way reading, digits are not judged") {
  std::vector<ClassAudit> after = before();
  after[0] = reading(0, true, 0.0f, 1.0f, 0.0f);
  Verdict alone = forgetting_verdict(after, {});
  CHECK(alone.digits[0].judged);
  CHECK(alone.digits[0].pass);
  CHECK_FALSE(alone.digits[1].judged);
  CHECK_FALSE(alone.judged);
  CHECK_FALSE(alone.pass);
  CHECK(verdict_text(alone).find("INCOMPLETE") != std::string::npos);

  after[0].read = false;
  Verdict unread = forgetting_verdict(after, before());
  CHECK_FALSE(unread.digits[0].judged);
  CHECK_FALSE(unread.pass);
  CHECK_THROWS(forgetting_verdict(after, std::vector<ClassAudit>(2)));
}

TEST_CASE("add_reading: each sample counts once, as itself, as no digit or as another digit") {
  // Two digits, 11-way-style probabilities with 3 columns (0, 1, no digit).
  std::vector<float> probs = {0.8f, 0.1f, 0.1f,   // a 0 read as 0
                              0.1f, 0.1f, 0.8f,   // a 0 read as no digit
                              0.1f, 0.7f, 0.2f,   // a 0 read as 1
                              0.6f, 0.3f, 0.1f};  // a 1 read as 0
  std::vector<ClassAudit> a = blank_audit(2, {0});
  add_reading(a, probs, {0, 0, 0, 1});
  CHECK(a[0].read);
  CHECK(a[0].samples == 3);
  CHECK(a[0].as_self == doctest::Approx(1.0 / 3));
  CHECK(a[0].as_none == doctest::Approx(1.0 / 3));
  CHECK(a[0].as_other == doctest::Approx(1.0 / 3));
  CHECK(a[1].as_other == doctest::Approx(1.0));
  CHECK_THROWS(add_reading(a, probs, {0, 0}));
}
