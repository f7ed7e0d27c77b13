#include "engine/run/step_loop.h"

#include <cmath>
#include <vector>

#include "engine/buffer.h"
#include "engine/progress.h"
#include "engine/run/stop.h"

void require_finite(double value, const std::string& what, const std::string& where, const std::string& kept) {
  if (std::isfinite(value)) return;
  throw RunError(what + " is non-finite (" + std::to_string(value) + ") at " + where + "; " + kept, kExitDiverged);
}

bool all_finite(const Backend& be, const float* dev, size_t n) {
  std::vector<float> host(n);
  copy_out(be, host.data(), dev, n * sizeof(float));
  for (float v : host)
    if (!std::isfinite(v)) return false;
  return true;
}

StepLoopEnd run_steps(const StepLoop& loop) {
  Progress progress(loop.label, loop.steps, loop.progress);
  int64_t saved = 0, step = 0, reported = 0;
  auto kept = [&] {
    return saved ? "the checkpoint of step " + std::to_string(saved) + " is kept"
                 : std::string("no checkpoint was written");
  };
  auto save = [&](bool stopped) {
    if (loop.weights_finite && !loop.weights_finite()) {
      progress.finish("");
      require_finite(NAN, "a weight", "step " + std::to_string(step), kept());
    }
    loop.save(step, stopped);
    saved = step;
  };
  auto report = [&] {
    const StepReport r = loop.report(step);
    progress.update(step, r.text);
    if (!std::isfinite(r.loss)) progress.finish("");
    const std::string window = std::to_string(reported + 1) + ".." + std::to_string(step);
    require_finite(r.loss, "the loss (mean over steps " + window + ")", "step " + std::to_string(step), kept());
    reported = step;
  };
  bool done = false;
  while (!done && !interrupted()) {
    loop.step(++step);
    done = step == loop.steps || (loop.finished && loop.finished(step));
    if (step % loop.log_every == 0 || done) report();
    if (loop.ckpt_every > 0 && step % loop.ckpt_every == 0) save(false);
  }
  // Stopped early: the log covers every step up to the checkpoint, the last row a partial window.
  if (!done && step > reported) report();
  progress.finish("");
  if (saved != step || !done) save(!done);
  return {step, !done};
}
