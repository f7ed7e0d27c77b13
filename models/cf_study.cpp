#include "models/cf_study.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "engine/adam.h"
#include "engine/batcher.h"
#include "engine/ops/ewc.h"
#include "engine/png.h"
#include "models/cvae_fisher.h"

namespace {

// The Batcher always builds one-hot labels (both datasets have labels 0..9); the VAE never reads them.
constexpr int kLabelClasses = 10;
constexpr uint64_t kEvalSeed = 0xE7A1ULL, kFisherSeed = 0xF15E5ULL;

// The EWC anchor: theta*, F and lambda.
struct Anchor {
  const Cvae& theta_star;
  const Buffer<float>& fisher;
  float lambda;
};

class Study {
 public:
  Study(Backend& be, const CvaeConfig& model_cfg, const CfConfig& cfg, const CfData& data, const CfHooks& hooks)
      : be_(be), cfg_(cfg), data_(data), hooks_(hooks), model_(be, model_cfg, cfg.seed), sums_(be, 3) {
    if (model_cfg.n_class != 0) throw std::invalid_argument("the forgetting study trains an unconditional VAE (n_class 0)");
    for (const Dataset* d : {&data.mnist_train, &data.mnist_test, &data.fashion_train, &data.fashion_test})
      if (d->dim() != model_cfg.x_dim) throw std::invalid_argument("a dataset's image size does not match the model");
    result_.has_ewc = cfg.ewc_lambda > 0.0f;
    total_steps_ = cf_total_steps(cfg);
  }

  CfResult run() {
    // Phase 1: MNIST from scratch.
    result_.phase1 = evaluate(0, 1, "shared");
    refresh_status(result_.phase1, 0);
    if (!train_phase(1, "shared", data_.mnist_train, nullptr, result_.phase1)) return result_;
    if (hooks_.on_model) hooks_.on_model("phase1", model_);

    Cvae theta_star(be_, model_.config(), cfg_.seed);
    theta_star.params().copy_from(be_, model_.params());
    // The Fisher's noise comes from its own stream, so the plain run is the same with or without EWC.
    Buffer<float> fisher;
    if (result_.has_ewc) {
      Backend fisher_be = be_;
      fisher_be.seed = cfg_.seed ^ kFisherSeed;
      fisher_be.rng_counter = 0;
      fisher = cvae_fisher_on_data(fisher_be, model_, data_.mnist_train, cfg_.fisher_samples, cfg_.batch);
    }

    // Phase 2 from theta* twice, with the random stream rewound so both runs draw identical noise.
    const uint64_t phase2_rng = be_.rng_counter;
    result_.plain = result_.phase1;
    if (!train_phase(2, "plain", data_.fashion_train, nullptr, result_.plain)) return result_;
    if (hooks_.on_model) hooks_.on_model("plain", model_);
    if (result_.has_ewc) {
      model_.params().copy_from(be_, theta_star.params());
      be_.rng_counter = phase2_rng;
      Anchor anchor{theta_star, fisher, cfg_.ewc_lambda};
      result_.ewc = result_.phase1;
      if (!train_phase(2, "ewc", data_.fashion_train, &anchor, result_.ewc)) return result_;
      if (hooks_.on_model) hooks_.on_model("ewc", model_);
    }
    result_.complete = true;
    return result_;
  }

 private:
  CfPoint evaluate(int step, int phase, const std::string& run) {
    CfPoint p;
    p.step = step;
    p.phase = phase;
    p.run = run;
    p.mnist = evaluate_vae(be_, model_, data_.mnist_test, cfg_.eval_samples, cfg_.seed ^ kEvalSeed);
    p.fashion = evaluate_vae(be_, model_, data_.fashion_test, cfg_.eval_samples, cfg_.seed ^ kEvalSeed);
    result_.points.push_back(p);
    if (hooks_.on_eval) hooks_.on_eval(p);
    return p;
  }

  // The status line shows the training loss since the previous evaluation, read only now (none yet
  // at step 0).
  void refresh_status(const CfPoint& p, int steps_since) {
    status_ = "phase " + std::to_string(p.phase) + " " + p.run;
    char part[128];  // snprintf truncates safely, whatever the values
    if (steps_since > 0) {
      std::vector<float> s = sums_.download(be_);
      zero_on(be_, sums_.data(), s.size() * sizeof(float));
      const float steps = static_cast<float>(steps_since);
      std::snprintf(part, sizeof part, " | train %.1f ewc %.2f", (s[0] + s[1]) / (steps * cfg_.batch), s[2] / steps);
      status_ += part;
    }
    std::snprintf(part, sizeof part, " | test recon mnist %.1f fashion %.1f", p.mnist.recon, p.fashion.recon);
    status_ += part;
  }

  // steps_per_phase Adam steps (fresh moments, so both phase-2 runs start from the same optimizer
  // state) on the negative ELBO summed over the batch, plus the EWC penalty when an anchor is given.
  // Updates `last` to the phase's final evaluation; false when stopped early.
  bool train_phase(int phase, const std::string& run, const Dataset& train, const Anchor* anchor, CfPoint& last) {
    const int first = (phase - 1) * cfg_.steps_per_phase;
    AdamHyper hyper;
    hyper.lr = cfg_.lr;
    Adam adam(be_, model_.params(), hyper);
    Batcher batcher(be_, train, kLabelClasses, cfg_.batch, cfg_.seed + static_cast<uint64_t>(phase));
    ParamStore& p = model_.params();
    zero_on(be_, sums_.data(), 3 * sizeof(float));
    int since_eval = 0;
    for (int s = 1; s <= cfg_.steps_per_phase; ++s) {
      batcher.next(be_);
      p.zero_grad(be_);
      model_.elbo(be_, batcher.x(), nullptr, cfg_.batch, 1.0f, {sums_.data(), sums_.data() + 1}, true);
      if (anchor)
        ewc_penalty_and_grad(be_, p.values(), anchor->theta_star.params().values(), anchor->fisher.data(),
                             static_cast<int64_t>(p.size()), anchor->lambda, p.grads(), sums_.data() + 2);
      adam.step(be_, p);
      ++since_eval;
      ++done_steps_;
      if (s % cfg_.eval_every == 0 || s == cfg_.steps_per_phase) {
        last = evaluate(first + s, phase, run);
        refresh_status(last, since_eval);
        since_eval = 0;
      }
      if (hooks_.on_step) hooks_.on_step(done_steps_, total_steps_, status_);
      if (hooks_.stop && hooks_.stop()) return false;
    }
    return true;
  }

  Backend& be_;
  const CfConfig cfg_;
  const CfData& data_;
  const CfHooks& hooks_;
  Cvae model_;
  Buffer<float> sums_;  // since the last evaluation: BCE, KL (per image summed), EWC penalty (per step summed)
  CfResult result_;
  int total_steps_ = 0, done_steps_ = 0;
  std::string status_;
};

}  // namespace

CfResult run_cf_study(Backend& be, const CvaeConfig& model_cfg, const CfConfig& cfg, const CfData& data,
                      const CfHooks& hooks) {
  if (cfg.steps_per_phase < 1 || cfg.batch < 1 || cfg.eval_every < 1)
    throw std::invalid_argument("steps per phase, batch and eval interval must be >= 1");
  return Study(be, model_cfg, cfg, data, hooks).run();
}

VaeScores evaluate_vae(const Backend& be, Cvae& model, const Dataset& d, int count, uint64_t seed) {
  const int n = count <= 0 || count > d.count ? d.count : count;
  if (n == 0) throw std::invalid_argument("evaluate_vae: empty dataset");
  Backend eval_be = be;  // own seed and counter: see the header
  eval_be.seed = seed;
  eval_be.rng_counter = 0;
  const int chunk = 500;
  const size_t dim = static_cast<size_t>(d.dim());
  Buffer<float> x(be, static_cast<size_t>(std::min(chunk, n)) * dim), sums(be, 3);  // recon BCE, ELBO BCE, KL
  for (int start = 0; start < n; start += chunk) {
    const int rows = std::min(chunk, n - start);
    copy_in(be, x.data(), d.images.data() + start * dim, sizeof(float) * rows * dim);
    model.reconstruct(eval_be, x.data(), nullptr, rows, sums.data(), nullptr);
    model.elbo(eval_be, x.data(), nullptr, rows, 1.0f, {sums.data() + 1, sums.data() + 2}, false);
  }
  std::vector<float> s = sums.download(be);
  return {s[0] / static_cast<float>(n), (s[1] + s[2]) / static_cast<float>(n)};
}

CfCsv::CfCsv(const std::string& path) : path_(path), out_(path, std::ios::trunc) {
  if (!out_) throw std::runtime_error("cannot write " + path);
  out_ << kHeader << '\n' << std::flush;
}

void CfCsv::append(const CfPoint& p) {
  char row[512];  // room for any four floats
  std::snprintf(row, sizeof row, "%d,%d,%s,%.4f,%.4f,%.4f,%.4f\n", p.step, p.phase, p.run.c_str(), p.mnist.recon,
                p.mnist.elbo, p.fashion.recon, p.fashion.elbo);
  out_ << row << std::flush;
  if (!out_) throw std::runtime_error("write failed: " + path_);
}

void write_cf_plot(const std::string& path, const CfResult& r, int boundary) {
  LinePlot plot;
  plot.title = "Test reconstruction loss: MNIST, then FashionMNIST";
  plot.xlabel = "training step (phase 1 MNIST | phase 2 FashionMNIST)";
  plot.ylabel = "recon BCE per image (z = mu)";
  plot.vlines = {static_cast<float>(boundary)};
  std::vector<std::string> runs = {"plain"};
  if (r.has_ewc) runs.push_back("ewc");
  for (const char* dataset : {"MNIST", "Fashion"}) {
    const bool mnist = dataset[0] == 'M';
    for (const std::string& run : runs) {
      Series s;
      s.label = std::string(dataset) + ", " + (run == "ewc" ? "EWC" : "plain");
      for (const CfPoint& p : r.points) {
        if (p.run != "shared" && p.run != run) continue;
        s.x.push_back(static_cast<float>(p.step));
        s.y.push_back(mnist ? p.mnist.recon : p.fashion.recon);
      }
      plot.series.push_back(s);
    }
  }
  write_line_plot(path, plot);
}

void write_recon_grid(const Backend& be, Cvae& model, const Dataset& d, int n, const std::string& path) {
  n = std::min(n, d.count);
  const size_t pixels = static_cast<size_t>(n) * d.dim();
  std::vector<float> both(d.images.begin(), d.images.begin() + pixels);  // originals row first
  Buffer<float> x(be, pixels), out(be, pixels);
  copy_in(be, x.data(), both.data(), pixels * sizeof(float));
  model.reconstruct(be, x.data(), nullptr, n, nullptr, out.data());
  std::vector<float> recon = out.download(be);
  both.insert(both.end(), recon.begin(), recon.end());
  write_image_grid(path, both.data(), 2 * n, 1, d.height, d.width, n, 2, 2);
}

std::string cf_summary_markdown(const CfResult& r, float ewc_lambda) {
  std::string md =
      "| model | MNIST recon | MNIST -ELBO | Fashion recon | Fashion -ELBO |\n"
      "|---|---|---|---|---|\n";
  char line[200];
  auto row = [&](const std::string& name, const CfPoint& p) {
    std::snprintf(line, sizeof line, "| %s | %.2f | %.2f | %.2f | %.2f |\n", name.c_str(), p.mnist.recon, p.mnist.elbo,
                  p.fashion.recon, p.fashion.elbo);
    md += line;
  };
  auto change = [&](const std::string& name, const CfPoint& p) {
    const float base = r.phase1.mnist.recon, d = p.mnist.recon - base;
    std::snprintf(line, sizeof line, "MNIST recon over phase 2, %s: %+.2f (%+.1f %% of its phase-1 value)\n",
                  name.c_str(), d, 100.0f * d / base);
    md += line;
  };
  row("after phase 1 (MNIST)", r.phase1);
  row("after phase 2, plain", r.plain);
  char ewc_name[64];
  std::snprintf(ewc_name, sizeof ewc_name, "after phase 2, EWC (lambda %g)", ewc_lambda);
  if (r.has_ewc) row(ewc_name, r.ewc);
  md += "\n";
  change("plain", r.plain);
  if (r.has_ewc) change("EWC", r.ewc);
  return md;
}
