#include "experiments/selective_amnesia/forget_run.h"

#include <algorithm>
#include <cstdio>

#include "engine/run/csv_log.h"
#include "engine/run/step_loop.h"
#include "experiments/selective_amnesia/cvae_pictures.h"
#include "experiments/selective_amnesia/fisher_cache.h"

int forget_and_audit(const ForgetOptions& o, Driver& d) {
  const std::vector<int> digits = parse_digit_list(o.digits);
  Backend be = d.backend();
  const CvaeConfig cfg_of_model = conditional_cvae_config_of(o.model);
  Cvae model(be, cfg_of_model, 0), frozen(be, cfg_of_model, 0);
  model.load(be, o.model);
  frozen.load(be, o.model);
  // Load the judges before the long part, so a bad judge path fails fast.
  AuditJudges judges = load_audit_judges(be, o.audit);
  Buffer<float> fisher = cached_model_fisher(be, model, o.model, o.fisher, o.fisher_samples);

  ForgetConfig cfg;
  cfg.forget = digits;
  cfg.remember = other_digits(digits, model.config().n_class);
  cfg.batch = o.batch;
  cfg.lambda = o.lambda;
  cfg.gamma = o.gamma;
  AdamHyper hyper;
  hyper.lr = o.lr;
  SelectiveAmnesia sa(be, model, frozen, fisher, cfg, hyper);
  // --steps N runs exactly N steps; by default the stop rule decides.
  StopRule rule = o.stop;
  if (o.steps > 0) rule.min_steps = rule.max_steps = o.steps;
  GrayConvergence stop(rule, digits);
  if (o.steps > 0)
    std::printf("sa_forget: forgetting %s with %d steps, batch %d, lr %g, lambda %g, gamma %g on %s\n", o.digits.c_str(),
                o.steps, o.batch, o.lr, o.lambda, o.gamma, be.name());
  else
    std::printf("sa_forget: forgetting %s until every forgotten row is within RMS %g of flat gray for %d checks "
                "%d steps apart (%d to %d steps), batch %d, lr %g, lambda %g, gamma %g on %s\n",
                o.digits.c_str(), rule.tolerance, rule.patience, rule.check_every, rule.min_steps, rule.max_steps,
                o.batch, o.lr, o.lambda, o.gamma, be.name());

  CsvLog csv(d.out_path("loss.csv"), "step,forget_loss,replay_loss,ewc_penalty");
  CsvLog gray_csv(d.out_path("distance_to_gray.csv"), "step,digit,rms_distance_to_gray");
  const std::string ckpt = d.out_path("cvae_forget.safetensors");
  StepLoop loop;
  loop.label = "sa_forget";
  loop.steps = rule.max_steps;
  loop.log_every = o.log_every;
  loop.ckpt_every = o.ckpt_every;
  loop.step = [&](int64_t) { sa.step(be); };
  loop.finished = [&](int64_t step) {
    const bool finished = stop.done(be, model, static_cast<int>(step));
    if (stop.measured_now())
      for (size_t k = 0; k < digits.size(); ++k) gray_csv.row(step, digits[k], stop.distances()[k]);
    return finished;
  };
  loop.report = [&](int64_t step) {
    const ForgetLosses l = sa.read_and_reset(be);
    csv.row(step, l.forget, l.replay, l.ewc);
    const float worst = stop.distances().empty() ? 0.0f : *std::max_element(stop.distances().begin(), stop.distances().end());
    char line[160];
    std::snprintf(line, sizeof line, "forget %.1f | replay %.1f | ewc %.3f | to gray %.4f", l.forget, l.replay, l.ewc,
                  worst);
    return StepReport{static_cast<double>(l.forget) + l.replay + l.ewc, line};
  };
  loop.weights_finite = [&] { return all_finite(be, model.params().values(), model.params().size()); };
  loop.save = [&](int64_t step, bool stopped) {
    std::map<std::string, std::string> meta = {{"forgotten", o.digits}, {"steps", std::to_string(step)},
                                               {"source", o.model}, {"converged", stop.converged() ? "1" : "0"}};
    if (stopped) meta["interrupted"] = "1";
    model.save(be, ckpt, meta);
  };
  const StepLoopEnd end = run_steps(loop);
  if (end.interrupted) {
    std::printf("interrupted at step %lld: checkpoint saved to %s\n", static_cast<long long>(end.steps), ckpt.c_str());
    return interrupted_exit_code();
  }
  if (o.steps == 0)
    std::printf("stopped after %lld steps: %s\n", static_cast<long long>(end.steps),
                stop.converged() ? "every forgotten row converged to gray" : "the step cap, NOT converged");

  write_sample_grid(be, frozen, 10, 1234, d.out_path("samples_before.png"));
  write_sample_grid(be, model, 10, 1234, d.out_path("samples_after.png"));
  std::vector<std::pair<int, int>> pairs;
  for (int f : digits) pairs.push_back({cfg.remember[pairs.size() % cfg.remember.size()], f});
  write_morph_grid(be, model, pairs, 10, 99, d.out_path("morph.png"));
  std::printf("wrote %s, samples_before.png, samples_after.png, morph.png in %s\n", ckpt.c_str(), d.out().c_str());

  audit_and_report(be, judges, &frozen, model, o.audit.samples, digits, kAuditSeed, d.out());
  return 0;
}
