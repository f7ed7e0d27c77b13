// The forgetting verdict, read from the 11-way judge's audit (DESIGN.md 3b):
//   a forgotten digit passes when <= 1 % of its samples are read as itself and <= 5 % as another
//   digit (a forgotten 0 drawn as 6s is not forgetting; "no digit" is what forgetting should give);
//   a remembered digit passes when its "read as itself" rate is at most 2 points below the same
//   model's before forgetting, on the same z draws (1000 samples give about 0.5 point of noise); a
//   rise is not damage (replaying the frozen model's samples can sharpen a digit), so it passes and
//   is shown as it is.
// The verdict is data: drivers print and write it, and still exit 0.
#pragma once
#include <string>
#include <vector>

#include "experiments/audit/audit.h"

inline constexpr float kForgottenSelfMax = 0.01f, kForgottenOtherMax = 0.05f, kRememberedDriftMax = 0.02f;

struct DigitVerdict {
  int digit = 0;
  bool forgotten = false, judged = false, pass = false;  // judged: there was something to judge it by
  std::string why;                                       // the numbers behind the call
};

struct Verdict {
  std::vector<DigitVerdict> digits;
  bool judged = false;  // every digit could be judged
  bool pass = false;    // judged, and every digit passed
};

// after: the audited model (11-way reading required); before: the same model before forgetting on the
// same draws, or empty (then remembered digits cannot be judged and are reported so).
Verdict forgetting_verdict(const std::vector<ClassAudit>& after, const std::vector<ClassAudit>& before);
// The overall call, then one line per digit with the numbers behind it.
std::string verdict_text(const Verdict& v);
