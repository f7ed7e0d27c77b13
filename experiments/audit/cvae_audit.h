// Audit of a CVAE by the judges: samples per digit (decoder means, rounded to 8-bit as the official
// audit does), judged by the paper's 10-class judge and by the 11-way judge (with "no digit") on the
// same images, summarised per digit; the forgetting verdict; and the report files.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "experiments/audit/audit.h"
#include "experiments/audit/verdict.h"
#include "models/cvae.h"
#include "models/judge.h"

// Where sa_judge writes the judges, and the seed of the z draws every audit shares (so tables of
// different runs and of sa_forget, sa_eval and sa_grayout compare like with like).
inline constexpr const char* kDefaultJudgePath = "runs/judge/judge.safetensors";
inline constexpr const char* kDefaultJudge11Path = "runs/judge11/judge.safetensors";
inline constexpr uint64_t kAuditSeed = 777;

// The judge at `path`, with the class count it records. A missing file is an error when `required`
// (the user named it), else null with a note, so a run without any judge still forgets and writes
// its pictures. classes (10 or 11; 0 = any) must match what the checkpoint records.
std::unique_ptr<Judge> load_judge(const Backend& be, const std::string& path, bool required, int classes = 0);

struct AuditJudges {
  std::unique_ptr<Judge> digits;    // the paper's 10-class judge, or null
  std::unique_ptr<Judge> no_digit;  // the 11-way judge, or null
  explicit operator bool() const { return digits || no_digit; }
};
// From the --judge and --judge11 flags as given: "" means the default path (skipped with a note when
// absent); a named file must exist and hold a judge of the right class count.
AuditJudges load_audit_judges(const Backend& be, const std::string& judge, const std::string& judge11);

// The audit's flags, shared by every driver that audits a CVAE (sa_forget, sa_grayout, sa_eval).
struct AuditFlags {
  std::string judge, judge11;  // "" = the default path, skipped with a note when absent
  int samples = 1000;          // per digit
};
class Cli;
// Registers --judge, --judge11 and the per-digit sample count under samples_flag.
void add_audit_flags(Cli& cli, AuditFlags& f, const std::string& samples_flag);
AuditJudges load_audit_judges(const Backend& be, const AuditFlags& f);

// The per-digit audit of `model` by whichever judges are present, on z draws fixed by `seed`.
std::vector<ClassAudit> audit_cvae(const Backend& be, Cvae& model, AuditJudges& judges, int per_digit,
                                   const std::vector<int>& forgotten, uint64_t seed);
// The whole audit of a driver: `model` (and `original`, when not null, on the same draws, for a
// before/after table and the verdict), printed and written by report_audit with the gray yardstick.
void audit_and_report(Backend& be, AuditJudges& judges, Cvae* original, Cvae& model, int per_digit,
                      const std::vector<int>& forgotten, uint64_t seed, const std::string& out_dir);
// The 10-class judge on a flat mid-gray image (every pixel 0.5, the BCE-optimal decoder mean for
// uniform-noise targets), summarised as if drawn once for each digit. A forgotten class whose decoder
// has collapsed onto the surrogate's mean scores exactly this, so it is the yardstick of the paper's
// metrics for the forgotten rows: a judge that is confident on gray caps the entropy any forgetting can show.
std::vector<ClassAudit> judge_on_gray(Backend& be, Judge& judge, int n_class, const std::vector<int>& forgotten);
// Prints the before/after table (one model's table when `after` is empty), the gray yardstick (when
// `gray` is not empty and a digit is forgotten) and, last, the verdict when the 11-way reading is
// there; writes audit.md and audit.csv (and verdict.txt) into out_dir. Returns the verdict.
Verdict report_audit(const std::vector<ClassAudit>& before, const std::vector<ClassAudit>& after,
                     const std::vector<ClassAudit>& gray, const std::string& out_dir);
