// sa_forget: Selective Amnesia on a trained CVAE; forgets the chosen digits, then audits the
// original and the forgetful model with the independent judges, ending with the verdict. By default it
// forgets until the forgotten rows have converged to flat gray (StopRule in selective_amnesia.h). The
// run itself is experiments/selective_amnesia/forget_run.cpp.
#include "experiments/selective_amnesia/forget_run.h"

int main(int argc, char** argv) {
  ForgetOptions o;
  Driver d("sa_forget", "Make a trained CVAE forget digits with Selective Amnesia, then audit it with the judge.",
         {"", "runs/sa_forget"});
  Cli& cli = d.cli();
  cli.add("digits", &o.digits, "digits to forget, comma-separated (e.g. 0 or 0,1 or 3,5,8)");
  cli.add("model", &o.model, "trained CVAE checkpoint (sa_train)");
  cli.add("fisher", &o.fisher, "Fisher file; default fisher.safetensors next to --model, computed if missing");
  cli.add("fisher-samples", &o.fisher_samples, "model samples for the Fisher", 1, 10000000);
  add_audit_flags(cli, o.audit, "audit-samples");
  cli.add("steps", &o.steps, "forgetting steps; 0 (default): until the forgotten rows converge to gray", 0, 100000000);
  cli.add("tolerance", &o.stop.tolerance, "stop rule: RMS distance of a forgotten row's decoder means from gray", 1e-6, 1.0);
  cli.add("min-steps", &o.stop.min_steps, "stop rule: fewest steps", 1, 100000000);
  cli.add("max-steps", &o.stop.max_steps, "stop rule: step cap (a run that hits it says so)", 1, 100000000);
  cli.add("check-every", &o.stop.check_every, "stop rule: steps between distance checks", 1, 100000000);
  cli.add("batch", &o.batch, "batch size (each of the forget and replay halves)", 1, 65536);
  cli.add("lr", &o.lr, "Adam learning rate", 1e-8, 1.0);
  cli.add("lambda", &o.lambda, "EWC weight", 0.0, 1e9);
  cli.add("gamma", &o.gamma, "weight of the replay term", 0.0, 1e6);
  cli.add("log-every", &o.log_every, "steps between loss lines", 1, 100000000);
  cli.add("ckpt-every", &o.ckpt_every, "steps between checkpoints", 1, 100000000);
  return d.main(argc, argv, [&](Driver& d) { return forget_and_audit(o, d); });
}
