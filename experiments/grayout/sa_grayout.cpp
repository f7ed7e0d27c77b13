// sa_grayout: gray-out forgetting on a trained CVAE (reference 001, seed study 2): the forgotten digits are
// pulled to flat gray while real and replayed images of the remembered digits, and an EWC penalty with a
// Fisher from the remembered digits' real images, hold the rest. With --sequential the digits are forgotten
// one at a time, each stage starting from the previous one's model with a fresh Fisher on the digits not
// yet forgotten. Then the judge audits original vs final, and two decoder attacks try to bring the
// forgotten digits back (the same attacks on the original model are the control).
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/cli.h"
#include "engine/progress.h"
#include "engine/timer.h"
#include "experiments/grayout/attack_study.h"
#include "experiments/audit/cvae_audit.h"
#include "models/cvae_fisher.h"
#include "models/cvae_sampling.h"
#include "experiments/selective_amnesia/cvae_pictures.h"
#include "experiments/grayout/grayout.h"

namespace {

struct Options {
  std::string model = "runs/sa_train/cvae.safetensors", judge, data = "data/mnist", digits = "9";
  std::string device = "auto", out = "runs/sa_grayout", attack_init = "both";
  bool sequential = false;
  int steps = 5000, batch = 256, fisher_samples = 50000, audit_samples = 1000, log_every = 100;
  int attack_starts = 64, attack_steps = 500;
  float lr = 1e-4f, lambda = 100.0f, gamma = 1.0f, beta = 1.0f, attack_lr = 0.05f;
  int64_t seed = 0;
};

std::string join(const std::vector<int>& digits, const char* sep) {
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) s += (i ? sep : "") + std::to_string(digits[i]);
  return s;
}

// What one stage forgets, where it writes, and what was forgotten before it.
struct Stage {
  std::vector<int> forget, forgotten_so_far;  // forgotten_so_far includes forget
  std::string dir;
  int index = 0, count = 1;
};

// prior: digits the input checkpoint already forgot (a gray-out or SA checkpoint records them); they stay
// out of the remembered set, or the real-data term would teach them back.
std::vector<Stage> plan_stages(const Options& o, const std::vector<int>& digits, const std::vector<int>& prior) {
  std::vector<Stage> stages;
  std::vector<int> so_far = prior;
  const size_t count = o.sequential ? digits.size() : 1;
  for (size_t i = 0; i < count; ++i) {
    Stage s;
    s.forget = o.sequential ? std::vector<int>{digits[i]} : digits;
    so_far.insert(so_far.end(), s.forget.begin(), s.forget.end());
    s.forgotten_so_far = so_far;
    s.index = static_cast<int>(i) + 1;
    s.count = static_cast<int>(count);
    // One stage writes into --out itself; a sequence gives each stage a folder of its own.
    s.dir = count == 1 ? o.out : o.out + "/stage" + std::to_string(s.index) + "_forget" + join(s.forget, "_");
    stages.push_back(s);
  }
  return stages;
}

// Forgets one stage's digits from `model` in place; frozen becomes the stage's starting point (theta*).
// Returns the number of steps taken (fewer than --steps when interrupted); the checkpoint is written either way.
int run_stage(Backend& be, const Options& o, const Stage& st, const Dataset& train, Cvae& model, Cvae& frozen) {
  std::filesystem::create_directories(st.dir);
  frozen.params().copy_from(be, model.params());
  GrayoutConfig cfg;
  cfg.forget = st.forget;
  cfg.remember = other_digits(st.forgotten_so_far, model.config().n_class);
  cfg.batch = o.batch;
  cfg.lambda = o.lambda;
  cfg.gamma = o.gamma;
  cfg.beta = o.beta;
  Dataset remembered = filter_digits(train, cfg.remember);

  // A fresh Fisher per stage: the weights have moved, and the remembered set has shrunk.
  const int samples = std::min(o.fisher_samples, remembered.count);
  std::printf("stage %d/%d: forget %s, remember %s; Fisher from %d real images...\n", st.index, st.count,
              join(st.forget, ",").c_str(), join(cfg.remember, ",").c_str(), samples);
  Timer t;
  Buffer<float> fisher = cvae_fisher_on_data(be, model, remembered, samples, 500);
  backend_sync(be);
  std::printf("Fisher: %.2f s\n", t.seconds());

  AdamHyper hyper;
  hyper.lr = o.lr;
  GrayOut gray(be, model, frozen, fisher, remembered, cfg, hyper);
  std::printf("sa_grayout: %d steps, batch %d, lr %g, lambda %g, gamma %g, beta %g on %s\n", o.steps, o.batch, o.lr,
              o.lambda, o.gamma, o.beta, be.name());
  std::ofstream csv(st.dir + "/loss.csv");
  csv << "step,real_loss,replay_loss,gray_loss,ewc_penalty\n";
  std::fflush(stdout);  // the progress line goes to stderr; keep the two in order in a log
  char label[64];
  std::snprintf(label, sizeof label, "sa_grayout %d/%d", st.index, st.count);
  Progress progress(label, o.steps);
  int step = 0;
  while (step < o.steps && !interrupted()) {
    gray.step(be);
    ++step;
    if (step % o.log_every == 0 || step == o.steps) {
      GrayoutLosses l = gray.read_and_reset(be);
      csv << step << ',' << l.real << ',' << l.replay << ',' << l.gray << ',' << l.ewc << '\n';
      char line[128];
      std::snprintf(line, sizeof line, "real %.1f | replay %.1f | gray %.2f | ewc %.3f", l.real, l.replay, l.gray, l.ewc);
      progress.update(step, line);
    }
  }
  progress.finish("");
  const std::string ckpt = st.dir + "/cvae_grayout.safetensors";
  model.save(be, ckpt, {{"forgotten", join(st.forgotten_so_far, ",")}, {"steps", std::to_string(step)},
                        {"source", o.model}, {"objective", "grayout"}});
  std::printf("wrote %s\n", ckpt.c_str());
  return step;
}

std::vector<LabelStart> label_starts(const std::string& choice) {
  if (choice == "onehot") return {LabelStart::Forgotten};
  if (choice == "uniform") return {LabelStart::Uniform};
  return {LabelStart::Forgotten, LabelStart::Uniform};
}

// The digits --model already forgot, checked against --digits: none twice, and not every digit in the end.
std::vector<int> previously_forgotten(const Options& o, const std::vector<int>& digits) {
  std::vector<int> prior = recorded_forgotten_digits(o.model);
  for (int d : digits)
    if (std::find(prior.begin(), prior.end(), d) != prior.end())
      throw std::runtime_error(o.model + " has already forgotten digit " + std::to_string(d));
  std::vector<int> all = prior;
  all.insert(all.end(), digits.begin(), digits.end());
  if (other_digits(all).empty()) throw std::runtime_error("with the digits " + o.model + " already forgot, no digit would be left");
  if (!prior.empty())
    std::printf("%s has already forgotten %s: they stay out of the remembered set\n", o.model.c_str(),
                join(prior, ",").c_str());
  return prior;
}

int grayout(const Options& o, const std::vector<int>& digits) {
  Backend be = make_backend(o.device, static_cast<uint64_t>(o.seed));
  const std::vector<int> prior = previously_forgotten(o, digits);
  std::filesystem::create_directories(o.out);
  const CvaeConfig arch = cvae_config_of(o.model);
  Cvae original(be, arch, 0), model(be, arch, 0), frozen(be, arch, 0);
  original.load(be, o.model);
  model.params().copy_from(be, original.params());
  // The judge and the data load before the long part, so a bad path fails fast.
  std::unique_ptr<Judge> judge = load_judge(be, o.judge.empty() ? kDefaultJudgePath : o.judge, !o.judge.empty());
  Dataset train = load_mnist_split(o.data, true);

  std::vector<Stage> stages = plan_stages(o, digits, prior);
  const std::vector<int> forgotten = stages.back().forgotten_so_far;  // prior + digits
  for (const Stage& st : stages) {
    if (run_stage(be, o, st, train, model, frozen) < o.steps) {
      std::printf("interrupted in stage %d: checkpoint saved in %s\n", st.index, st.dir.c_str());
      return 130;
    }
    // Within a sequence each stage gets its own pictures and audit against the model it started from.
    if (stages.size() > 1) {
      write_sample_grid(be, model, 10, 1234, st.dir + "/samples_after.png");
      if (judge) audit_and_report(be, *judge, &frozen, model, o.audit_samples, st.forgotten_so_far, kAuditSeed, st.dir);
    }
  }
  if (stages.size() > 1)
    model.save(be, o.out + "/cvae_grayout.safetensors",
               {{"forgotten", join(forgotten, ",")}, {"source", o.model}, {"objective", "grayout"}, {"sequence", "1"}});

  write_sample_grid(be, original, 10, 1234, o.out + "/samples_before.png");
  write_sample_grid(be, model, 10, 1234, o.out + "/samples_after.png");
  std::printf("wrote cvae_grayout.safetensors, samples_before.png, samples_after.png in %s\n", o.out.c_str());
  if (!judge) return 0;
  if (stages.size() > 1) std::printf("\nwhole sequence, original -> final model:");
  audit_and_report(be, *judge, &original, model, o.audit_samples, forgotten, kAuditSeed, o.out);
  if (o.attack_starts == 0) return 0;

  AttackStudyConfig ac;
  ac.starts = o.attack_starts;
  ac.steps = o.attack_steps;
  ac.lr = o.attack_lr;
  ac.label_starts = label_starts(o.attack_init);
  ac.seed = static_cast<uint64_t>(o.seed);
  // Only this run's digits: the input model is the control, and it never knew the earlier ones.
  std::fflush(stdout);
  AttackStudy study = run_attack_study(be, original, model, *judge, digits, ac, o.out);
  write_attack_report(study, ac, o.out);
  std::printf("wrote audit.md, audit.csv, attack.md, attack.csv, attack.png in %s\n", o.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("sa_grayout", [&] {
    Options o;
    Cli cli("sa_grayout",
            "Make a trained CVAE forget digits by graying them out (real + replayed retain data, EWC on the retained "
            "digits' Fisher, decoder pulled to flat gray), audit it with the judge, then attack its decoder.");
    cli.add("digits", &o.digits, "digits to forget, comma-separated (e.g. 9 or 9,2)");
    cli.add_switch("sequential", &o.sequential,
                   "forget --digits one at a time in the given order, each stage from the previous model with a fresh "
                   "Fisher on the digits not yet forgotten (e.g. --digits 9,2 --sequential)");
    cli.add("model", &o.model, "trained CVAE checkpoint (sa_train)");
    cli.add("judge", &o.judge, "judge checkpoint (sa_judge); default runs/judge/judge.safetensors, audit and attacks are skipped if that is absent");
    cli.add("data", &o.data, "folder with the MNIST IDX files (bash data/fetch.sh)");
    cli.add("steps", &o.steps, "gray-out steps per stage", 1, 100000000);
    cli.add("batch", &o.batch, "batch size of each of the real, replay and gray batches", 1, 65536);
    cli.add("lr", &o.lr, "Adam learning rate", 1e-8, 1.0);
    cli.add("lambda", &o.lambda, "EWC weight", 0.0, 1e9);
    cli.add("gamma", &o.gamma, "weight of the replay term", 0.0, 1e6);
    cli.add("beta", &o.beta, "weight of the gray-out term (squared error to 0.5, summed over pixels)", 0.0, 1e6);
    cli.add("fisher-samples", &o.fisher_samples, "real images of the remembered digits for each stage's Fisher (capped at what there is)", 1, 10000000);
    cli.add("audit-samples", &o.audit_samples, "samples per digit in the audit", 1, 1000000);
    cli.add("attack-starts", &o.attack_starts, "random starts per attack (0 skips the attacks)", 0, 100000);
    cli.add("attack-steps", &o.attack_steps, "Adam steps per attack", 0, 10000000);
    cli.add("attack-lr", &o.attack_lr, "Adam learning rate of the attacks", 1e-8, 100.0);
    cli.add("attack-init", &o.attack_init, "where the attack's label starts: the forgotten one-hot, uniform, or both",
            {"both", "onehot", "uniform"});
    cli.add("seed", &o.seed, "seed", 0, INT64_MAX);
    cli.add("device", &o.device, "where to run", {"auto", "cpu", "cuda"});
    cli.add("out", &o.out, "output folder");
    cli.add("log-every", &o.log_every, "steps between loss lines", 1, 100000000);
    if (!cli.parse(argc, argv)) return 0;
    std::vector<int> digits = parse_digit_list(o.digits);
    return grayout(o, digits);
  });
}
