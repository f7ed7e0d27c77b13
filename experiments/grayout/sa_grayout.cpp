// sa_grayout: gray-out forgetting on a trained CVAE (reference 001, seed study 2): the forgotten digits are
// pulled to flat gray while real and replayed images of the remembered digits, and an EWC penalty with a
// Fisher from the remembered digits' real images, hold the rest. With --sequential the digits are forgotten
// one at a time, each stage starting from the previous one's model with a fresh Fisher on the digits not
// yet forgotten. Then the judge audits original vs final, and two decoder attacks try to bring the
// forgotten digits back (the same attacks on the original model are the control).
#include <cstdio>

#include "engine/run/driver.h"
#include "experiments/audit/cvae_audit.h"
#include "experiments/grayout/attack_study.h"
#include "experiments/grayout/grayout_run.h"
#include "experiments/selective_amnesia/cvae_pictures.h"

namespace {

int grayout(GrayoutOptions o, Driver& d) {
  const std::vector<int> digits = parse_digit_list(o.digits);
  o.out = d.out();
  Backend be = d.backend();
  const std::vector<int> prior = previously_forgotten(o, digits);
  const CvaeConfig arch = conditional_cvae_config_of(o.model);
  Cvae original(be, arch, 0), model(be, arch, 0), frozen(be, arch, 0);
  original.load(be, o.model);
  model.params().copy_from(be, original.params());
  // The judge and the data load before the long part, so a bad path fails fast.
  AuditJudges judges = load_audit_judges(be, o.audit);
  Dataset train = load_mnist_split(d.flags().data, true);

  std::vector<GrayoutStage> stages = plan_grayout_stages(o, digits, prior);
  const std::vector<int> forgotten = stages.back().forgotten_so_far;  // prior + digits
  for (const GrayoutStage& st : stages) {
    if (run_grayout_stage(be, o, st, train, model, frozen) < o.steps) {
      std::printf("interrupted in stage %d: checkpoint saved in %s\n", st.index, st.dir.c_str());
      return interrupted_exit_code();
    }
    // Within a sequence each stage gets its own pictures and audit against the model it started from.
    if (stages.size() > 1) {
      write_sample_grid(be, model, 10, 1234, st.dir + "/samples_after.png");
      audit_and_report(be, judges, &frozen, model, o.audit.samples, st.forgotten_so_far, kAuditSeed, st.dir);
    }
  }
  if (stages.size() > 1)
    model.save(be, o.out + "/cvae_grayout.safetensors",
               {{"forgotten", join_digits(forgotten, ",")}, {"source", o.model}, {"objective", "grayout"}, {"sequence", "1"}});

  write_sample_grid(be, original, 10, 1234, o.out + "/samples_before.png");
  write_sample_grid(be, model, 10, 1234, o.out + "/samples_after.png");
  std::printf("wrote cvae_grayout.safetensors, samples_before.png, samples_after.png in %s\n", o.out.c_str());
  if (!judges) return 0;
  if (stages.size() > 1) std::printf("\nwhole sequence, original -> final model:");
  audit_and_report(be, judges, &original, model, o.audit.samples, forgotten, kAuditSeed, o.out);
  if (o.attack_starts == 0 || !judges.digits) return 0;  // the attacks steer by the 10-class judge

  AttackStudyConfig ac;
  ac.starts = o.attack_starts;
  ac.steps = o.attack_steps;
  ac.lr = o.attack_lr;
  ac.label_starts = label_starts(o.attack_init);
  ac.seed = d.seed();
  // Only this run's digits: the input model is the control, and it never knew the earlier ones.
  std::fflush(stdout);
  AttackStudy study = run_attack_study(be, original, model, *judges.digits, digits, ac, o.out);
  write_attack_report(study, ac, o.out);
  std::printf("wrote audit.md, audit.csv, attack.md, attack.csv, attack.png in %s\n", o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  GrayoutOptions o;
  Driver d("sa_grayout",
           "Make a trained CVAE forget digits by graying them out (real + replayed retain data, EWC on the retained "
           "digits' Fisher, decoder pulled to flat gray), audit it with the judge, then attack its decoder.",
           {"data/mnist", "runs/sa_grayout"});
  Cli& cli = d.cli();
  cli.add("digits", &o.digits, "digits to forget, comma-separated (e.g. 9 or 9,2)");
  cli.add_switch("sequential", &o.sequential,
                 "forget --digits one at a time in the given order, each stage from the previous model with a fresh "
                 "Fisher on the digits not yet forgotten (e.g. --digits 9,2 --sequential)");
  cli.add("model", &o.model, "trained CVAE checkpoint (sa_train)");
  add_audit_flags(cli, o.audit, "audit-samples");
  cli.add("steps", &o.steps, "gray-out steps per stage", 1, 100000000);
  cli.add("batch", &o.batch, "batch size of each of the real, replay and gray batches", 1, 65536);
  cli.add("lr", &o.lr, "Adam learning rate", 1e-8, 1.0);
  cli.add("lambda", &o.lambda, "EWC weight", 0.0, 1e9);
  cli.add("gamma", &o.gamma, "weight of the replay term", 0.0, 1e6);
  cli.add("beta", &o.beta, "weight of the gray-out term (squared error to 0.5, summed over pixels)", 0.0, 1e6);
  cli.add("fisher-samples", &o.fisher_samples, "real images of the remembered digits for each stage's Fisher (capped at what there is)", 1, 10000000);
  cli.add("attack-starts", &o.attack_starts, "random starts per attack (0 skips the attacks)", 0, 100000);
  cli.add("attack-steps", &o.attack_steps, "Adam steps per attack", 0, 10000000);
  cli.add("attack-lr", &o.attack_lr, "Adam learning rate of the attacks", 1e-8, 100.0);
  cli.add("attack-init", &o.attack_init, "where the attack's label starts: the forgotten one-hot, uniform, or both",
          {"both", "onehot", "uniform"});
  cli.add("log-every", &o.log_every, "steps between loss lines", 1, 100000000);
  cli.add("ckpt-every", &o.ckpt_every, "steps between checkpoints within a stage", 1, 100000000);
  return d.main(argc, argv, [&](Driver& d) { return grayout(o, d); });
}
