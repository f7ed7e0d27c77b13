// sa_eval: the judge's audit of any CVAE checkpoint, alone or beside the model it came from, without
// re-running the forgetting (e.g. to re-audit with another judge or more samples).
#include <cstdio>
#include <filesystem>

#include "engine/cli.h"
#include "experiments/audit/cvae_audit.h"

namespace {

struct Options {
  std::string model, before, judge = kDefaultJudgePath, forgotten, device = "auto", out = "runs/sa_eval";
  int samples = 1000;
  int64_t seed = kAuditSeed;
};

// The digits to mark forgotten: --forgotten, else what sa_forget recorded in the checkpoint, else none.
std::vector<int> forgotten_digits(const Options& o) {
  return o.forgotten.empty() ? recorded_forgotten_digits(o.model) : parse_digit_list(o.forgotten);
}

int evaluate(const Options& o) {
  if (o.model.empty()) throw std::runtime_error("--model is required (a CVAE checkpoint from sa_train or sa_forget)");
  Backend be = make_backend(o.device, static_cast<uint64_t>(o.seed));
  const std::vector<int> forgotten = forgotten_digits(o);
  std::unique_ptr<Judge> judge = load_judge(be, o.judge, true);
  Cvae model(be, cvae_config_of(o.model), 0);
  model.load(be, o.model);
  std::filesystem::create_directories(o.out);
  Cvae original(be, o.before.empty() ? CvaeConfig{} : cvae_config_of(o.before), 0);
  if (!o.before.empty()) original.load(be, o.before);
  audit_and_report(be, *judge, o.before.empty() ? nullptr : &original, model, o.samples, forgotten,
                   static_cast<uint64_t>(o.seed), o.out);
  std::printf("wrote audit.md and audit.csv in %s\n", o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("sa_eval", [&] {
    Options o;
    Cli cli("sa_eval", "Audit a CVAE checkpoint with the judge: per digit accuracy, p(digit) and entropy of its samples.");
    cli.add("model", &o.model, "CVAE checkpoint to audit (sa_train or sa_forget)");
    cli.add("before", &o.before, "optional original checkpoint, audited on the same draws for a side-by-side table");
    cli.add("judge", &o.judge, "judge checkpoint (sa_judge)");
    cli.add("forgotten", &o.forgotten, "digits to mark forgotten; default: the checkpoint's own record, else none");
    cli.add("samples", &o.samples, "samples per digit", 1, 1000000);
    cli.add("seed", &o.seed, "seed of the z draws (sa_forget's audit uses 777)", 0, INT64_MAX);
    cli.add("device", &o.device, "where to run", {"auto", "cpu", "cuda"});
    cli.add("out", &o.out, "folder for audit.md and audit.csv");
    if (!cli.parse(argc, argv)) return 0;
    return evaluate(o);
  });
}
