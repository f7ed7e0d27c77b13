// cf_vae: catastrophic forgetting of a VAE trained on MNIST then FashionMNIST, with and without EWC.
#include <cstdio>

#include "engine/progress.h"
#include "engine/run/driver.h"
#include "engine/run/step_loop.h"
#include "engine/write_file.h"
#include "experiments/cf_vae/cf_study.h"

namespace {

struct Options {
  CfConfig study;
  std::string mnist = "data/mnist", fashion = "data/fashion";
};

int run(Options o, Driver& d) {
  o.study.seed = d.seed();
  Backend be = d.backend();
  Dataset mnist_train = load_mnist_split(o.mnist, true), mnist_test = load_mnist_split(o.mnist, false);
  Dataset fashion_train = load_mnist_split(o.fashion, true), fashion_test = load_mnist_split(o.fashion, false);
  const CfConfig& c = o.study;
  std::printf("cf_vae: %d steps per phase, batch %d, lr %g, EWC lambda %g (Fisher of %d MNIST images), replay gamma %g, "
              "seed %lld on %s\n",
              c.steps_per_phase, c.batch, c.lr, c.ewc_lambda, c.fisher_samples, c.replay_gamma,
              static_cast<long long>(d.flags().seed), be.name());
  std::fflush(stdout);  // ahead of the progress lines on stderr when both go to one log

  CsvLog csv(d.out_path("metrics.csv"), kCfCsvHeader);
  Progress progress("cf_vae", cf_total_steps(c));
  CfHooks hooks;
  hooks.on_eval = [&](const CfPoint& p) {
    log_cf_point(csv, p);
    require_finite(p.mnist.elbo + p.fashion.elbo, "the test negative ELBO", "step " + std::to_string(p.step),
                   "the checkpoints of the finished stages are kept");
  };
  hooks.on_step = [&](int64_t done, int64_t, const std::string& status) { progress.update(done, status); };
  hooks.stop = interrupted;
  hooks.on_model = [&](const std::string& stage, Cvae& model, const CfPoint&) {
    std::map<std::string, std::string> meta = {{"stage", stage}, {"seed", std::to_string(d.flags().seed)},
                                               {"ewc_lambda", std::to_string(c.ewc_lambda)},
                                               {"replay_gamma", std::to_string(c.replay_gamma)}};
    if (stage == "interrupted") {
      meta["interrupted"] = "1";
      model.save(be, d.out_path("interrupted.safetensors"), meta);
      return;
    }
    const std::string name = stage == "phase1" ? "phase1" : "phase2_" + stage;
    model.save(be, d.out_path(name + ".safetensors"), meta);
    write_recon_grid(be, model, mnist_test, 16, d.out_path("recon_" + name + ".png"));
  };

  CfResult r = run_cf_study(be, vae_config(), c, {mnist_train, mnist_test, fashion_train, fashion_test}, hooks);
  progress.finish("");
  write_cf_plot(d.out_path("recon_curves.png"), r, c.steps_per_phase);
  if (!r.complete) {
    std::printf("interrupted: saved %s/interrupted.safetensors; metrics.csv and recon_curves.png hold the "
                "evaluations so far\n", d.out().c_str());
    return interrupted_exit_code();
  }
  const std::string md = cf_summary_markdown(r, c);
  write_file(d.out_path("summary.md"), md);
  std::printf("\n%s\nwrote %s/{metrics.csv, recon_curves.png, recon_*.png, phase*.safetensors, summary.md}\n",
              md.c_str(), d.out().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CfConfig& s = o.study;
  s.ewc_lambda = 1e4f;
  s.replay_gamma = 1.0f;
  Driver d("cf_vae",
           "Train a VAE on MNIST, then on FashionMNIST from the same phase-1 model three times (plain, with EWC,\n"
           "with generative replay of the phase-1 model), scoring both test sets as it goes.",
           {"", "runs/cf_vae"});
  Cli& cli = d.cli();
  cli.add("steps-per-phase", &s.steps_per_phase, "training steps on each dataset", 1, 100000000);
  cli.add("batch", &s.batch, "batch size", 1, 65536);
  cli.add("lr", &s.lr, "Adam learning rate (fresh moments each phase)", 1e-8, 1.0);
  cli.add("ewc-lambda", &s.ewc_lambda, "EWC weight on sum F (theta - theta*)^2; 0 skips the EWC run", 0.0, 1e12);
  cli.add("replay-gamma", &s.replay_gamma, "weight of generative replay from the phase-1 model; 0 skips the replay run",
          0.0, 1e6);
  cli.add("fisher-samples", &s.fisher_samples, "MNIST training images in the Fisher", 1, 60000);
  cli.add("eval-every", &s.eval_every, "steps between evaluations", 1, 100000000);
  cli.add("eval-samples", &s.eval_samples, "held-out images per test set per evaluation", 1, 10000);
  cli.add("mnist", &o.mnist, "folder with the MNIST IDX files (bash data/fetch.sh)");
  cli.add("fashion", &o.fashion, "folder with the FashionMNIST IDX files, raw or .gz");
  return d.main(argc, argv, [&](Driver& d) { return run(o, d); });
}
