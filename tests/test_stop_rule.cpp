// The forgetting stop rule (StopRule / GrayConvergence) on a tiny CVAE: it measures the forgotten rows'
// distance to flat gray without any judge, stops once they are there, and reports a cap it hit.
#include <doctest/doctest.h>

#include "experiments/selective_amnesia/selective_amnesia.h"
#include "models/cvae_fisher.h"
#include "tests/tiny_cvae.h"

namespace {
struct TinyForgetting {
  Backend be = make_backend("cpu", 8);
  CvaeConfig cfg = tiny_cvae_config();
  Cvae model{be, cfg, 8}, frozen{be, cfg, 8};
  Buffer<float> fisher;
  TinyForgetting() {
    train_tiny_cvae(be, model, striped_dataset(cfg, 96), 600, 3e-3f);
    frozen.params().copy_from(be, model.params());
    fisher = cvae_fisher(be, model, {0, 1, 2}, 256, 64);
  }
  // Forgets class 2 until the rule says stop; returns the steps taken.
  int run(GrayConvergence& stop) {
    ForgetConfig fc;
    fc.forget = {2};
    fc.remember = {0, 1};
    fc.batch = 16;
    fc.lambda = 1.0f;
    AdamHyper h;
    h.lr = 3e-3f;
    SelectiveAmnesia sa(be, model, frozen, fisher, fc, h);
    int step = 0;
    do {
      sa.step(be);
    } while (!stop.done(be, model, ++step));
    return step;
  }
};

StopRule test_rule(int check_every, int probes, int min_steps, int max_steps, float tolerance) {
  StopRule rule;
  rule.check_every = check_every;
  rule.probes = probes;
  rule.patience = 2;
  rule.min_steps = min_steps;
  rule.max_steps = max_steps;
  rule.tolerance = tolerance;
  return rule;
}
}  // namespace

TEST_CASE("distance to gray: zero for a gray decoder, large for a class the model draws") {
  TinyForgetting t;
  // The trained model draws class 2 as 0.95 on its third and 0.05 elsewhere: RMS distance near 0.45.
  CHECK(distance_to_gray(t.be, t.model, {2}, 32, 1)[0] > 0.3f);
  // The same fixed draws every time.
  CHECK(distance_to_gray(t.be, t.model, {0, 2}, 32, 1) == distance_to_gray(t.be, t.model, {0, 2}, 32, 1));
}

TEST_CASE("stop rule: forgetting stops once the forgotten row is gray, and only then") {
  TinyForgetting t;
  const StopRule rule = test_rule(50, 32, 100, 5000, 0.05f);
  GrayConvergence stop(rule, {2});
  const int steps = t.run(stop);
  INFO("stopped after " << steps << " steps, distance " << stop.distances()[0]);
  CHECK(stop.converged());
  CHECK(steps < rule.max_steps);
  CHECK(steps >= rule.min_steps);
  CHECK(steps % rule.check_every == 0);
  CHECK(stop.distances()[0] <= rule.tolerance);
  CHECK(distance_to_gray(t.be, t.model, {2}, 32, 99)[0] <= 0.08f);  // other draws agree
  CHECK(own_third_contrast(t.be, t.model, 0) > 0.5);              // the remembered classes stay
  CHECK(own_third_contrast(t.be, t.model, 1) > 0.5);
}

TEST_CASE("stop rule: an unreachable tolerance runs to the cap and says it did not converge") {
  TinyForgetting t;
  const StopRule rule = test_rule(20, 16, 20, 120, 1e-6f);
  GrayConvergence stop(rule, {2});
  CHECK(t.run(stop) == 120);
  CHECK_FALSE(stop.converged());
  StopRule bad = rule;
  bad.max_steps = 10;
  CHECK_THROWS(GrayConvergence(bad, {2}));
}
