// sa_forget: Selective Amnesia on a trained CVAE; forgets the chosen digits, then audits the
// original and the forgetful model with the independent judge.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/cli.h"
#include "engine/progress.h"
#include "engine/timer.h"
#include "experiments/audit/cvae_audit.h"
#include "models/cvae_fisher.h"
#include "models/cvae_sampling.h"
#include "experiments/selective_amnesia/cvae_pictures.h"
#include "experiments/selective_amnesia/selective_amnesia.h"

namespace {

struct Options {
  std::string model = "runs/sa_train/cvae.safetensors", fisher, digits = "0", judge;
  std::string device = "auto", out = "runs/sa_forget";
  int steps = 10000, batch = 256, fisher_samples = 50000, audit_samples = 1000, log_every = 100;
  float lr = 1e-4f, lambda = 100.0f, gamma = 1.0f;
  int64_t seed = 0;
};

// The Fisher is a property of the trained model, so it lives next to it and is computed only once
// (again when the model next to it was retrained; a Fisher named by --fisher must match).
Buffer<float> fisher_for(Backend& be, Cvae& model, const Options& o) {
  std::string path = o.fisher.empty() ? (std::filesystem::path(o.model).parent_path() / "fisher.safetensors").string() : o.fisher;
  if (std::filesystem::exists(path)) {
    try {
      Buffer<float> f = load_fisher(be, model, path);
      std::printf("Fisher: loaded %s\n", path.c_str());
      return f;
    } catch (const StaleFisher& e) {
      if (!o.fisher.empty()) throw;
      std::printf("Fisher: %s; recomputing\n", e.what());
    }
  }
  std::printf("Fisher: %d samples of the model itself...\n", o.fisher_samples);
  std::vector<int> all = other_digits({}, model.config().n_class);
  Timer t;
  Buffer<float> f = cvae_fisher(be, model, all, o.fisher_samples, 500);
  backend_sync(be);
  std::printf("Fisher: %.2f s, saved to %s\n", t.seconds(), path.c_str());
  save_fisher(be, model, f, path, o.fisher_samples);
  return f;
}

int forget(const Options& o, const std::vector<int>& digits) {
  Backend be = make_backend(o.device, static_cast<uint64_t>(o.seed));
  std::filesystem::create_directories(o.out);
  const CvaeConfig cfg_of_model = cvae_config_of(o.model);
  Cvae model(be, cfg_of_model, 0), frozen(be, cfg_of_model, 0);
  model.load(be, o.model);
  frozen.load(be, o.model);
  // Load the judge before the long part, so a bad judge path fails fast.
  std::unique_ptr<Judge> judge = load_judge(be, o.judge.empty() ? kDefaultJudgePath : o.judge, !o.judge.empty());
  Buffer<float> fisher = fisher_for(be, model, o);

  ForgetConfig cfg;
  cfg.forget = digits;
  cfg.remember = other_digits(digits, model.config().n_class);
  cfg.batch = o.batch;
  cfg.lambda = o.lambda;
  cfg.gamma = o.gamma;
  AdamHyper hyper;
  hyper.lr = o.lr;
  SelectiveAmnesia sa(be, model, frozen, fisher, cfg, hyper);
  std::printf("sa_forget: forgetting %s with %d steps, batch %d, lambda %g, gamma %g on %s\n", o.digits.c_str(), o.steps,
              o.batch, o.lambda, o.gamma, be.name());

  std::ofstream csv(o.out + "/loss.csv");
  csv << "step,forget_loss,replay_loss,ewc_penalty\n";
  const std::string ckpt = o.out + "/cvae_forget.safetensors";
  Progress progress("sa_forget", o.steps);
  int step = 0;
  while (step < o.steps && !interrupted()) {
    sa.step(be);
    ++step;
    if (step % o.log_every == 0 || step == o.steps) {
      ForgetLosses l = sa.read_and_reset(be);
      csv << step << ',' << l.forget << ',' << l.replay << ',' << l.ewc << '\n';
      char line[128];
      std::snprintf(line, sizeof line, "forget %.1f | replay %.1f | ewc %.3f", l.forget, l.replay, l.ewc);
      progress.update(step, line);
    }
  }
  progress.finish("");
  model.save(be, ckpt, {{"forgotten", o.digits}, {"steps", std::to_string(step)}, {"source", o.model}});
  if (step < o.steps) {
    std::printf("interrupted at step %d: checkpoint saved to %s\n", step, ckpt.c_str());
    return 130;
  }

  write_sample_grid(be, frozen, 10, 1234, o.out + "/samples_before.png");
  write_sample_grid(be, model, 10, 1234, o.out + "/samples_after.png");
  std::vector<std::pair<int, int>> pairs;
  for (int f : digits) pairs.push_back({cfg.remember[pairs.size() % cfg.remember.size()], f});
  write_morph_grid(be, model, pairs, 10, 99, o.out + "/morph.png");
  std::printf("wrote %s, samples_before.png, samples_after.png, morph.png in %s\n", ckpt.c_str(), o.out.c_str());

  if (!judge) return 0;
  audit_and_report(be, *judge, &frozen, model, o.audit_samples, digits, kAuditSeed, o.out);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_guarded("sa_forget", [&] {
    Options o;
    Cli cli("sa_forget", "Make a trained CVAE forget digits with Selective Amnesia, then audit it with the judge.");
    cli.add("digits", &o.digits, "digits to forget, comma-separated (e.g. 0 or 0,1 or 3,5,8)");
    cli.add("model", &o.model, "trained CVAE checkpoint (sa_train)");
    cli.add("fisher", &o.fisher, "Fisher file; default fisher.safetensors next to --model, computed if missing");
    cli.add("fisher-samples", &o.fisher_samples, "model samples for the Fisher", 1, 10000000);
    cli.add("judge", &o.judge, "judge checkpoint (sa_judge); default runs/judge/judge.safetensors, the audit is skipped if that is absent");
    cli.add("audit-samples", &o.audit_samples, "samples per digit in the audit", 1, 1000000);
    cli.add("steps", &o.steps, "forgetting steps", 1, 100000000);
    cli.add("batch", &o.batch, "batch size (each of the forget and replay halves)", 1, 65536);
    cli.add("lr", &o.lr, "Adam learning rate", 1e-8, 1.0);
    cli.add("lambda", &o.lambda, "EWC weight", 0.0, 1e9);
    cli.add("gamma", &o.gamma, "weight of the replay term", 0.0, 1e6);
    cli.add("seed", &o.seed, "seed", 0, INT64_MAX);
    cli.add("device", &o.device, "where to run", {"auto", "cpu", "cuda"});
    cli.add("out", &o.out, "output folder");
    cli.add("log-every", &o.log_every, "steps between loss lines", 1, 100000000);
    if (!cli.parse(argc, argv)) return 0;
    std::vector<int> digits = parse_digit_list(o.digits);
    return forget(o, digits);
  });
}
