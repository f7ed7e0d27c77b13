// bench_cvae: steps/s of the CVAE training step and the time of the 50k-sample Fisher, on one device.
#include <cstdio>

#include "engine/adam.h"
#include "engine/ops/rng.h"
#include "engine/run/driver.h"
#include "engine/run/tee_report.h"
#include "engine/step_graph.h"
#include "engine/timer.h"
#include "models/cvae_fisher.h"

namespace {

double time_train_steps(Backend& be, int batch, int steps) {
  Cvae model(be, CvaeConfig{}, 1);
  Adam adam(be, model.params(), AdamHyper{});
  const CvaeConfig& k = model.config();
  Buffer<float> x(be, static_cast<size_t>(batch) * k.x_dim), c(be, static_cast<size_t>(batch) * k.n_class), sums(be, 2);
  fill_uniform(be, x.data(), static_cast<int64_t>(x.size()));
  fill_uniform(be, c.data(), static_cast<int64_t>(c.size()));
  StepGraph graph;  // one graph launch per step with AMNESIA_CUDA_GRAPH=1 on CUDA; plain calls otherwise
  auto step = [&] {
    graph.run(be, 0, [&] {
      model.params().zero_grad(be);
      model.elbo(be, x.data(), c.data(), batch, 1.0f, {sums.data(), sums.data() + 1}, true);
      adam.step(be, model.params());
    });
  };
  for (int i = 0; i < 5; ++i) step();  // warm-up: allocation, BLAS thread start, cuBLAS heuristics
  backend_sync(be);
  Timer t;
  for (int i = 0; i < steps; ++i) step();
  backend_sync(be);
  return t.seconds() / steps;
}

}  // namespace

int main(int argc, char** argv) {
  int batch = 256, steps = 200, fisher_samples = 50000;
  Driver d("bench_cvae", "Time the CVAE training step and the batched diagonal Fisher; the table goes to stdout and "
           "to bench_cvae.md in --out.", {"", "runs/bench_cvae", 1});
  d.cli().add("batch", &batch, "batch size", 1, 65536);
  d.cli().add("steps", &steps, "timed training steps", 1, 1000000);
  d.cli().add("fisher-samples", &fisher_samples, "samples in the Fisher", 1, 10000000);
  return d.main(argc, argv, [&](Driver& d) {
    Backend be = d.backend();
    double step_s = time_train_steps(be, batch, steps);
    Cvae model(be, CvaeConfig{}, 1);
    Timer t;
    Buffer<float> f = cvae_fisher(be, model, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, fisher_samples, 500);
    backend_sync(be);
    double fisher_s = t.seconds();
    TeeReport md(d.out_path("bench_cvae.md"));
    md.printf("| device | CVAE step (batch %d) | steps/s | Fisher (%d samples) |\n|---|---|---|---|\n", batch,
              fisher_samples);
    const bool graphed = be.is_cuda() && StepGraph::enabled();
    md.printf("| %s%s | %.3f ms | %.1f | %.2f s |\n", be.name(), graphed ? " (CUDA Graph)" : "", 1e3 * step_s,
              1.0 / step_s, fisher_s);
    md.save();
    return 0;
  });
}
