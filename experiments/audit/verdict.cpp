#include "experiments/audit/verdict.h"

#include <cstdio>
#include <stdexcept>

namespace {
std::string percent(float f) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.1f %%", 100.0f * f);
  return buf;
}

DigitVerdict judge_digit(const ClassAudit& a, const ClassAudit* was) {
  DigitVerdict v;
  v.digit = a.digit;
  v.forgotten = a.forgotten;
  if (!a.read) {
    v.why = "no 11-way reading";
    return v;
  }
  if (a.forgotten) {
    v.judged = true;
    v.pass = a.as_self <= kForgottenSelfMax && a.as_other <= kForgottenOtherMax;
    v.why = "read as itself " + percent(a.as_self) + " (<= 1 %), as another digit " + percent(a.as_other) +
            " (<= 5 %), as no digit " + percent(a.as_none);
    return v;
  }
  if (!was || !was->read) {
    v.why = "remembered, but no reading before forgetting to compare with";
    return v;
  }
  v.judged = true;
  // A small margin absorbs float rounding of counts out of 1000 (2 points is 20 samples, exactly).
  v.pass = was->as_self - a.as_self <= kRememberedDriftMax + 1e-6f;
  v.why = "read as itself " + percent(was->as_self) + " -> " + percent(a.as_self) + " (at most 2 points down)";
  return v;
}
}  // namespace

Verdict forgetting_verdict(const std::vector<ClassAudit>& after, const std::vector<ClassAudit>& before) {
  if (!before.empty() && before.size() != after.size()) throw std::runtime_error("forgetting_verdict: tables differ in size");
  Verdict out;
  out.judged = !after.empty();
  out.pass = out.judged;
  for (size_t d = 0; d < after.size(); ++d) {
    out.digits.push_back(judge_digit(after[d], before.empty() ? nullptr : &before[d]));
    out.judged = out.judged && out.digits.back().judged;
    out.pass = out.pass && out.digits.back().pass;
  }
  out.pass = out.pass && out.judged;
  return out;
}

std::string verdict_text(const Verdict& v) {
  std::string s = "Verdict (11-way judge; forgotten: <= 1 % read as itself and <= 5 % as another digit; remembered: "
                  "read as itself at most 2 points below before): ";
  s += !v.judged ? "INCOMPLETE\n" : v.pass ? "PASS\n" : "FAIL\n";
  for (const DigitVerdict& d : v.digits)
    s += "  digit " + std::to_string(d.digit) + (d.forgotten ? " forgotten: " : " remembered: ") +
         (!d.judged ? "not judged" : d.pass ? "pass" : "FAIL") + ", " + d.why + "\n";
  return s;
}
