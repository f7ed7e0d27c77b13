// Audit of a CVAE by the judge: samples per digit (decoder means, rounded to 8-bit as the official
// audit does), judged, summarised per digit; and the report files.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "experiments/audit/audit.h"
#include "models/cvae.h"
#include "models/judge.h"

// Where sa_judge writes the judge, and the seed of the z draws every audit shares (so tables of
// different runs and of sa_forget and sa_eval compare like with like).
inline constexpr const char* kDefaultJudgePath = "runs/judge/judge.safetensors";
inline constexpr uint64_t kAuditSeed = 777;

struct AuditResult {
  std::vector<ClassAudit> classes;
};

// The judge at `path`. A missing file is an error when `required` (the user named it), else null with
// a note, so a run without any judge still forgets and writes its pictures.
std::unique_ptr<Judge> load_judge(const Backend& be, const std::string& path, bool required);
AuditResult audit_cvae(const Backend& be, Cvae& model, Judge& judge, int per_digit, const std::vector<int>& forgotten,
                       uint64_t seed);
// The whole audit of a driver: `model` (and `original`, when not null, on the same draws, for a
// before/after table), printed and written by report_audit with the gray yardstick.
void audit_and_report(Backend& be, Judge& judge, Cvae* original, Cvae& model, int per_digit,
                      const std::vector<int>& forgotten, uint64_t seed, const std::string& out_dir);
// The judge on a flat mid-gray image (every pixel 0.5, the BCE-optimal decoder mean for uniform-noise
// targets), summarised as if drawn once for each digit. A forgotten class whose decoder has collapsed
// onto the surrogate's mean scores exactly this, so it is the yardstick for the forgotten rows: a
// judge that is confident on gray caps the entropy any forgetting can show.
std::vector<ClassAudit> judge_on_gray(Backend& be, Judge& judge, int n_class, const std::vector<int>& forgotten);
// Prints the before/after table (one model's table when `after` is empty) and, when any digit is
// forgotten, the gray yardstick; writes audit.md and audit.csv into out_dir.
void report_audit(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after,
                  const std::vector<ClassAudit>& gray, const std::string& out_dir);
