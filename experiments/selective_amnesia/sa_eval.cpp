// sa_eval: the judge's audit of any CVAE checkpoint, alone or beside the model it came from, without
// re-running the forgetting (e.g. to re-audit with another judge or more samples).
#include <cstdio>

#include "engine/run/driver.h"
#include "experiments/audit/cvae_audit.h"

namespace {

struct Options {
  std::string model, before, forgotten;
  AuditFlags audit;
};

// The digits to mark forgotten: --forgotten, else what sa_forget recorded in the checkpoint, else none.
std::vector<int> forgotten_digits(const Options& o) {
  return o.forgotten.empty() ? recorded_forgotten_digits(o.model) : parse_digit_list(o.forgotten);
}

int evaluate(const Options& o, Driver& d) {
  if (o.model.empty()) throw std::runtime_error("--model is required (a CVAE checkpoint from sa_train or sa_forget)");
  Backend be = d.backend();
  const std::vector<int> forgotten = forgotten_digits(o);
  AuditJudges judges = load_audit_judges(be, o.audit);
  if (!judges) throw std::runtime_error("no judge to audit with: train them with sa_judge and sa_judge --no-digit-class");
  Cvae model(be, conditional_cvae_config_of(o.model), 0);
  model.load(be, o.model);
  Cvae original(be, o.before.empty() ? CvaeConfig{} : conditional_cvae_config_of(o.before), 0);
  if (!o.before.empty()) original.load(be, o.before);
  audit_and_report(be, judges, o.before.empty() ? nullptr : &original, model, o.audit.samples, forgotten,
                   d.seed(), d.out());
  std::printf("wrote audit.md and audit.csv (and verdict.txt with the 11-way judge) in %s\n", d.out().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  // --seed: the z draws of the audit, kAuditSeed as in sa_forget's and sa_grayout's audits.
  Driver d("sa_eval", "Audit a CVAE checkpoint with the judge: per digit accuracy, p(digit) and entropy of its samples.",
           {"", "runs/sa_eval", static_cast<int64_t>(kAuditSeed)});
  Cli& cli = d.cli();
  cli.add("model", &o.model, "CVAE checkpoint to audit (sa_train or sa_forget)");
  cli.add("before", &o.before, "optional original checkpoint, audited on the same draws for a side-by-side table");
  add_audit_flags(cli, o.audit, "samples");
  cli.add("forgotten", &o.forgotten, "digits to mark forgotten; default: the checkpoint's own record, else none");
  return d.main(argc, argv, [&](Driver& d) { return evaluate(o, d); });
}
