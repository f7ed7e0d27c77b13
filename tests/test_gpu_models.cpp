// Whole training steps of every model on the GPU against the CPU: the same initial weights (same seeds)
// and the same data on both devices, a few steps, then every parameter (and running statistic, Fisher,
// output) and every loss compared within a relative error of 1e-3 (tests/gpu_check.h: check_same_on_both).
// The last case checks a CUDA-Graph replay of the CVAE step against the same steps run eagerly.
// The single ops are covered in test_gpu_ops.cpp and test_gpu_conv_ops.cpp; this checks what they are
// composed into, with every pointer a device pointer and every random draw from the device's generator.
#include <doctest/doctest.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "engine/adam.h"
#include "engine/batcher.h"
#include "engine/step_graph.h"
#include "experiments/cf_vae/cf_study.h"
#include "experiments/grayout/decoder_attack.h"
#include "experiments/grayout/grayout.h"
#include "experiments/lntl/lntl_train.h"
#include "experiments/selective_amnesia/selective_amnesia.h"
#include "models/cvae_fisher.h"
#include "models/judge.h"
#include "models/mae.h"
#include "tests/blob_digits.h"
#include "tests/gpu_check.h"
#include "tests/temp_dir.h"

using namespace gpu_check;

namespace {

constexpr int kSteps = 3;

// A CVAE with the study's input and label sizes but narrow hidden layers, so the CPU half stays quick.
CvaeConfig narrow_cvae() {
  CvaeConfig c;
  c.h1 = 64; c.h2 = 32; c.z_dim = 4;
  return c;
}

// A device copy of the first n images of d.
Buffer<float> images_on(const Backend& be, const Dataset& d, int n) {
  return to_dev(be, Vec(d.images.begin(), d.images.begin() + static_cast<size_t>(n) * d.dim()));
}

AdamHyper adam_at(float lr) {
  AdamHyper h;
  h.lr = lr;
  return h;
}
const std::vector<int> kRemembered = {1, 2, 3, 4, 5, 6, 7, 8, 9};  // digit 0 is forgotten

// kSteps steps of a forgetting objective (SelectiveAmnesia, GrayOut) into r: the model's parameters
// after them; returns the objective's mean losses.
template <class Objective>
auto forgetting_steps(Backend& be, Objective& objective, Cvae& model, RunSnapshot& r) {
  for (int s = 0; s < kSteps; ++s) objective.step(be);
  r.add_params(be, "", model.params());
  return objective.read_and_reset(be);
}

// A model and its frozen copy, as the forgetting objectives take them.
struct ModelAndFrozen {
  Cvae model, frozen;
  ModelAndFrozen(const Backend& be, const CvaeConfig& cfg) : model(be, cfg, 5), frozen(be, cfg, 5) {}
};

// `steps` CVAE training steps (ELBO + Adam) on batches of d; through `graph` when it is given.
RunSnapshot train_cvae(Backend& be, const CvaeConfig& cfg, const Dataset& d, int steps, StepGraph* graph) {
  Cvae model(be, cfg, 3);
  Adam adam(be, model.params(), adam_at(1e-3f));
  Batcher batcher(be, d, 10, 32, 4);
  Buffer<float> sums(be, 2);
  for (int s = 0; s < steps; ++s) {
    batcher.next(be);
    auto step = [&] {
      model.params().zero_grad(be);
      model.elbo(be, batcher.x(), batcher.c(), 32, 1.0f, {sums.data(), sums.data() + 1}, true);
      adam.step(be, model.params());
    };
    if (graph) graph->run(be, 0.0, step);
    else step();
  }
  RunSnapshot r;
  r.add_params(be, "", model.params());
  const Vec s = sums.download(be);
  r.add("bce", s[0]);
  r.add("kl", s[1]);
  r.add("random counter", static_cast<float>(be.rng_counter));
  return r;
}

}  // namespace

TEST_CASE("gpu whole model: CVAE ELBO + Adam steps") {
  const Dataset d = blob_dataset(64, 1);
  check_same_on_both(11, [&](Backend& be) { return train_cvae(be, CvaeConfig{}, d, kSteps, nullptr); });  // full size
}

TEST_CASE("gpu whole model: the diagonal Fisher through the CVAE (own samples and data)") {
  const Dataset d = blob_dataset(50, 2);
  check_same_on_both(12, [&](Backend& be) {
    Cvae model(be, narrow_cvae(), 4);
    RunSnapshot r;
    const Buffer<float> own = cvae_fisher(be, model, {0, 3, 7}, 120, 50);
    const Buffer<float> on_data = cvae_fisher_on_data(be, model, d, 50, 20);
    r.add_params(be, "own.", model.params(), own.data());
    r.add_params(be, "data.", model.params(), on_data.data());
    return r;
  });
}

TEST_CASE("gpu whole model: Selective Amnesia forgetting steps") {
  check_same_on_both(13, [&](Backend& be) {
    ModelAndFrozen m(be, narrow_cvae());
    const Buffer<float> fisher = cvae_fisher(be, m.frozen, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 100, 50);
    ForgetConfig fc;
    fc.forget = {0};
    fc.remember = kRemembered;
    fc.batch = 24;
    SelectiveAmnesia sa(be, m.model, m.frozen, fisher, fc, adam_at(1e-3f));
    RunSnapshot r;
    const ForgetLosses l = forgetting_steps(be, sa, m.model, r);
    r.add("forget", l.forget);
    r.add("replay", l.replay);
    r.add("ewc", l.ewc);
    return r;
  });
}

TEST_CASE("gpu whole model: gray-out forgetting steps") {
  const Dataset remembered = filter_digits(blob_dataset(120, 3), kRemembered);
  check_same_on_both(14, [&](Backend& be) {
    ModelAndFrozen m(be, narrow_cvae());
    const Buffer<float> fisher = cvae_fisher_on_data(be, m.frozen, remembered, 60, 30);
    GrayoutConfig gc;
    gc.forget = {0};
    gc.remember = kRemembered;
    gc.batch = 16;
    GrayOut gray(be, m.model, m.frozen, fisher, remembered, gc, adam_at(1e-3f));
    RunSnapshot r;
    const GrayoutLosses l = forgetting_steps(be, gray, m.model, r);
    r.add("real", l.real);
    r.add("replay", l.replay);
    r.add("gray", l.gray);
    r.add("ewc", l.ewc);
    return r;
  });
}

TEST_CASE("gpu whole model: judge training steps, batch-norm running statistics, save and load") {
  const Dataset d = blob_dataset(96, 4);
  TempDir dir("gpu_models_judge");
  check_same_on_both(15, [&](Backend& be) {
    Judge judge(be, 6);
    Batcher batcher(be, d, 10, 32, 5);
    Buffer<float> loss(be, 1);
    for (int s = 0; s < kSteps; ++s) {
      batcher.next(be);
      judge.train_step(be, batcher.x(), batcher.labels(), 32, 2e-3f, loss.data());
    }
    // The checkpoint written from this device holds the parameters and the running statistics; a judge
    // loaded from it on the same device must give the same evaluation-mode probabilities.
    const std::string path = dir / (std::string(be.name()) + ".safetensors");
    judge.save(be, path);
    Judge loaded(be, 99);
    loaded.load(be, path);
    const int n = 40;
    Buffer<float> x = images_on(be, d, n), probs(be, static_cast<size_t>(n) * 10);
    loaded.probabilities(be, x.data(), n, probs.data());
    RunSnapshot r;
    r.add_checkpoint("", path);
    r.add("eval probabilities of the loaded judge", probs.download(be));
    r.add("loss", loss.download(be)[0]);
    return r;
  });
}

TEST_CASE("gpu whole model: one LNTL epoch (both steps) on tiny Colored MNIST") {
  const ColoredMnist data = make_colored_mnist(blob_dataset(48, 5), true, 0.02f, 2);
  TempDir dir("gpu_models_lntl");
  check_same_on_both(16, [&](Backend& be) {
    LntlNets nets(be, 7);
    LntlTrainer trainer(be, data, 16, 8);
    LntlEpochPlan plan;
    plan.adversarial = true;
    plan.opt.lr = 0.01f;
    const LntlEpochLosses l = trainer.run_epoch(be, nets, plan, [](const LntlEpochLosses&) { return true; }).mean();
    const std::string path = dir / (std::string(be.name()) + ".safetensors");
    nets.save(be, path, true);
    RunSnapshot r;
    r.add_checkpoint("", path);
    r.add("ce", static_cast<float>(l.ce));
    r.add("neg_entropy", static_cast<float>(l.neg_entropy));
    r.add("colour_ce", static_cast<float>(l.colour_ce));
    return r;
  });
}

TEST_CASE("gpu whole model: MAE learning and unlearning steps with Adam") {
  const Dataset d = blob_dataset(16, 6);
  const std::vector<int> labels(d.labels.begin(), d.labels.end());
  check_same_on_both(17, [&](Backend& be) {
    Mae mae(be, 8, 9);
    Adam adam_ae(be, mae.ae(), adam_at(1e-3f)), adam_q(be, mae.q(), adam_at(1e-3f));
    Buffer<float> x = images_on(be, d, d.count), gray = to_dev(be, Vec(x.size(), 0.5f)), sums(be, 2);
    Buffer<int> lab = to_dev(be, labels);
    for (int s = 0; s < kSteps; ++s) {
      const bool learn = s % 2 == 0;  // learn, unlearn, learn
      mae.ae().zero_grad(be);
      mae.q().zero_grad(be);
      mae.forward_backward(be, x.data(), d.count, {learn ? x.data() : gray.data(), learn ? lab.data() : nullptr, 10.0f},
                           1.0f / d.count, {sums.data(), sums.data() + 1});
      adam_ae.step(be, mae.ae());
      if (learn) adam_q.step(be, mae.q());
    }
    RunSnapshot r;
    r.add_params(be, "ae.", mae.ae());
    r.add_params(be, "q.", mae.q());
    const Vec s = sums.download(be);
    r.add("recon", s[0]);
    r.add("q", s[1]);
    return r;
  });
}

TEST_CASE("gpu whole model: the cf_vae study's phases (plain, EWC and replay) on tiny tasks") {
  // Two 16-pixel tasks of random bright patterns, the first on the left half, the second on the right.
  auto task = [](bool right, uint64_t seed) {
    std::mt19937 rng(static_cast<unsigned>(seed));
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    Dataset t;
    t.count = 48; t.height = 1; t.width = 16;
    for (int i = 0; i < t.count; ++i) {
      t.labels.push_back(i % 10);
      for (int j = 0; j < 16; ++j) t.images.push_back((j >= 8) == right ? u(rng) : 0.05f * u(rng));
    }
    return t;
  };
  const Dataset a = task(false, 1), b = task(true, 2);
  CvaeConfig vae = vae_config();
  vae.x_dim = 16; vae.h1 = 24; vae.h2 = 16; vae.z_dim = 2;
  CfConfig cfg;
  cfg.steps_per_phase = kSteps; cfg.batch = 16; cfg.lr = 3e-3f; cfg.ewc_lambda = 10.0f; cfg.replay_gamma = 1.0f;
  cfg.eval_every = kSteps; cfg.eval_samples = 0; cfg.fisher_samples = 32; cfg.seed = 3;
  check_same_on_both(18, [&](Backend& be) {
    RunSnapshot r;
    CfHooks hooks;
    hooks.on_model = [&](const std::string& stage, Cvae& model, const CfPoint&) {
      r.add_params(be, stage + ".", model.params());
    };
    const CfResult result = run_cf_study(be, vae, cfg, {a, a, b, b}, hooks);
    for (const CfPoint& p : result.points) {
      const std::string at = p.run + "@" + std::to_string(p.step) + ".";
      r.add(at + "mnist.recon", p.mnist.recon);
      r.add(at + "mnist.elbo", p.mnist.elbo);
      r.add(at + "fashion.recon", p.fashion.recon);
      r.add(at + "fashion.elbo", p.fashion.elbo);
    }
    return r;
  });
}

TEST_CASE("gpu whole model: both decoder attacks (prototype and judge-guided)") {
  check_same_on_both(19, [&](Backend& be) {
    Cvae model(be, narrow_cvae(), 10);
    Judge judge(be, 11);
    AttackConfig ac;
    ac.target = 4; ac.starts = 5; ac.steps = kSteps + 2; ac.lr = 0.1f;
    const Buffer<float> prototypes = draw_prototypes(be, model, ac.target, ac.starts, 17);
    RunSnapshot r;
    for (AttackGoal goal : {AttackGoal::Prototype, AttackGoal::Judge}) {
      ac.goal = goal;
      const std::string name = goal == AttackGoal::Prototype ? "prototype." : "judge.";
      const AttackResult a = attack_decoder(be, model, judge, prototypes.data(), ac);
      r.add(name + "images", a.images);
      r.add(name + "loss_first", a.loss_first);
      r.add(name + "loss_final", a.loss_final);
      r.add(name + "label_mass", a.mean_label_mass);
      r.add(name + "p_target", a.mean_p_target);
    }
    return r;
  });
}

TEST_CASE("gpu CUDA Graph: captured CVAE training steps equal the eager ones, draws and Adam steps included") {
  // Both runs on the device; the second replays a captured step (engine/step_graph.h), so the random
  // counter and Adam's step must advance on the device from replay to replay exactly as they do eagerly.
  const Dataset d = blob_dataset(64, 7);
  Backend eager_be = gpu(21), graph_be = gpu(21);
  const RunSnapshot eager = train_cvae(eager_be, narrow_cvae(), d, 6, nullptr);
  setenv("AMNESIA_CUDA_GRAPH", "1", 1);
  StepGraph graph;
  const RunSnapshot graphed = train_cvae(graph_be, narrow_cvae(), d, 6, &graph);
  unsetenv("AMNESIA_CUDA_GRAPH");
  check_same_snapshot(graphed, eager, 1e-5);
}
