#include "experiments/grayout/grayout_run.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>

#include "engine/run/csv_log.h"
#include "engine/run/step_loop.h"
#include "engine/text.h"
#include "engine/timer.h"
#include "experiments/grayout/grayout.h"
#include "models/cvae_fisher.h"

std::string join_digits(const std::vector<int>& digits, const char* sep) {
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) s += (i ? sep : "") + std::to_string(digits[i]);
  return s;
}

std::vector<GrayoutStage> plan_grayout_stages(const GrayoutOptions& o, const std::vector<int>& digits,
                                              const std::vector<int>& prior) {
  std::vector<GrayoutStage> stages;
  std::vector<int> so_far = prior;
  const size_t count = o.sequential ? digits.size() : 1;
  for (size_t i = 0; i < count; ++i) {
    GrayoutStage s;
    s.forget = o.sequential ? std::vector<int>{digits[i]} : digits;
    so_far.insert(so_far.end(), s.forget.begin(), s.forget.end());
    s.forgotten_so_far = so_far;
    s.index = static_cast<int>(i) + 1;
    s.count = static_cast<int>(count);
    // One stage writes into --out itself; a sequence gives each stage a folder of its own.
    s.dir = count == 1 ? o.out : o.out + "/stage" + std::to_string(s.index) + "_forget" + join_digits(s.forget, "_");
    stages.push_back(s);
  }
  return stages;
}

int run_grayout_stage(Backend& be, const GrayoutOptions& o, const GrayoutStage& st, const Dataset& train, Cvae& model,
                      Cvae& frozen) {
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
              join_digits(st.forget, ",").c_str(), join_digits(cfg.remember, ",").c_str(), samples);
  Timer t;
  Buffer<float> fisher = cvae_fisher_on_data(be, model, remembered, samples, 500);
  backend_sync(be);
  std::printf("Fisher: %.2f s\n", t.seconds());

  AdamHyper hyper;
  hyper.lr = o.lr;
  GrayOut gray(be, model, frozen, fisher, remembered, cfg, hyper);
  std::printf("sa_grayout: %d steps, batch %d, lr %g, lambda %g, gamma %g, beta %g on %s\n", o.steps, o.batch, o.lr,
              o.lambda, o.gamma, o.beta, be.name());
  CsvLog csv(st.dir + "/loss.csv", "step,real_loss,replay_loss,gray_loss,ewc_penalty");
  std::fflush(stdout);  // the progress line goes to stderr; keep the two in order in a log
  const std::string ckpt = st.dir + "/cvae_grayout.safetensors";
  char label[64];
  std::snprintf(label, sizeof label, "sa_grayout %d/%d", st.index, st.count);
  StepLoop loop;
  loop.label = label;
  loop.steps = o.steps;
  loop.log_every = o.log_every;
  loop.ckpt_every = o.ckpt_every;
  loop.step = [&](int64_t) { gray.step(be); };
  loop.report = [&](int64_t step) {
    const GrayoutLosses l = gray.read_and_reset(be);
    csv.row(step, l.real, l.replay, l.gray, l.ewc);
    char line[128];
    std::snprintf(line, sizeof line, "real %.1f | replay %.1f | gray %.2f | ewc %.3f", l.real, l.replay, l.gray, l.ewc);
    return StepReport{static_cast<double>(l.real) + l.replay + l.gray + l.ewc, line};
  };
  loop.weights_finite = [&] { return all_finite(be, model.params().values(), model.params().size()); };
  loop.save = [&](int64_t step, bool stopped) {
    std::map<std::string, std::string> meta = {{"forgotten", join_digits(st.forgotten_so_far, ",")},
                                               {"steps", std::to_string(step)}, {"source", o.model},
                                               {"objective", "grayout"}};
    if (stopped) meta["interrupted"] = "1";
    model.save(be, ckpt, meta);
  };
  const StepLoopEnd end = run_steps(loop);
  std::printf("wrote %s\n", ckpt.c_str());
  return static_cast<int>(end.steps);
}

std::vector<LabelStart> label_starts(const std::string& choice) {
  if (choice == "onehot") return {LabelStart::Forgotten};
  if (choice == "uniform") return {LabelStart::Uniform};
  return {LabelStart::Forgotten, LabelStart::Uniform};
}

std::vector<int> previously_forgotten(const GrayoutOptions& o, const std::vector<int>& digits) {
  std::vector<int> prior = recorded_forgotten_digits(o.model);
  for (int d : digits)
    if (std::find(prior.begin(), prior.end(), d) != prior.end())
      throw std::runtime_error(o.model + " has already forgotten digit " + std::to_string(d));
  std::vector<int> all = prior;
  all.insert(all.end(), digits.begin(), digits.end());
  if (other_digits(all).empty()) throw std::runtime_error("with the digits " + o.model + " already forgot, no digit would be left");
  if (!prior.empty())
    std::printf("%s has already forgotten %s: they stay out of the remembered set\n", o.model.c_str(),
                join_digits(prior, ",").c_str());
  return prior;
}
