// bench_steps: the yardstick of the engine's speed. Times one training step of every model the studies
// train, at the batch sizes they use, on one device: a few warm-up steps, then the median over many.
// Prints ms/step, the achieved GFLOP/s and its share of the machine's SGEMM peak measured in the same
// run (a large square GEMM through the same gemm dispatcher, hence at the same thread count).
// FLOPs are those of the GEMMs (2 per multiply-add), counted once per net from its layer shapes; a
// training step counts each layer's forward, weight-gradient and (where one is computed) input-gradient
// products, each convolution as the direct product: the CPU's Winograd layers (3x3, stride 1, >= 16
// channels; engine/cpu/conv_winograd.h) execute fewer multiply-adds in their forward and data-gradient
// passes, so their rate is an effective one. The inputs are random: a step's cost does not depend on
// the pixels.
// On the CPU at one thread it also replays each step's BLAS GEMMs alone (same shapes, same nesting,
// random operands): with conv=im2col ($AMNESIA_AVX512=off) the "GEMMs alone" time is the floor the
// im2col + BLAS design can reach, and its GFLOP/s against the peak says how much of the gap is BLAS's
// own at these shapes rather than the code around it. With conv=shifted (the default on AVX-512 CPUs,
// engine/cpu/conv_shifted.h) the convolutions call no BLAS (but for the data gradient of those with 1-2
// input channels), so the column covers the rest only; its rate counts the traced GEMMs' own FLOPs.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <random>
#include <tuple>
#include <vector>

#include "engine/adam.h"
#include "engine/cpu/blas_kernels.h"
#include "engine/cpu/conv_shifted.h"
#include "engine/cpu/gemm_trace.h"
#include "engine/cpu/thread_pool.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/gemm.h"
#include "engine/ops/rng.h"
#include "engine/run/driver.h"
#include "engine/run/tee_report.h"
#include "engine/timer.h"
#include "models/cvae.h"
#include "models/judge.h"
#include "models/lntl.h"
#include "models/mae.h"

namespace {

// Multiply-adds of one image through a layer, times 2.
double conv_flops(int in, int out, int k, int oh, int ow) { return 2.0 * in * out * k * k * oh * ow; }
double linear_flops(int in, int out) { return 2.0 * in * out; }

// One layer's training FLOPs per image: forward + weight gradient, + input gradient when it is computed.
double trained(double fwd, bool input_grad = true) { return fwd * (input_grad ? 3.0 : 2.0); }

double cvae_step_flops(const CvaeConfig& k) {
  const int c = k.n_class;
  return trained(linear_flops(k.x_dim + c, k.h1), false) + trained(linear_flops(k.h1, k.h2)) +
         trained(linear_flops(k.h2, 2 * k.z_dim)) + trained(linear_flops(k.z_dim + c, k.h2)) +
         trained(linear_flops(k.h2, k.h1)) + trained(linear_flops(k.h1, k.x_dim));
}

double judge_step_flops() {
  return trained(conv_flops(1, 10, 5, 24, 24), false) + trained(conv_flops(10, 20, 5, 8, 8)) +
         trained(linear_flops(320, 50)) + trained(linear_flops(50, 10));
}

double mae_step_flops(int code) {
  // A transposed convolution costs what its mirror convolution (output -> input) costs.
  return trained(conv_flops(1, 16, 3, 14, 14), false) + trained(conv_flops(16, 32, 3, 7, 7)) +
         trained(linear_flops(Mae::kFlat, code)) + trained(linear_flops(code, Mae::kFlat)) +
         trained(conv_flops(16, 32, 3, 7, 7)) + trained(conv_flops(1, 16, 3, 14, 14)) + trained(linear_flops(code, 10));
}

// LNTL's f trained once: conv1 has no data gradient (engine/input_bn_conv.h obtains the input batch
// norm's gradients without it; PyTorch computes it, 0.96 GFLOP more per LNTL step at batch 128).
double lntl_f_trained_flops() {
  return trained(conv_flops(3, 32, 5, 28, 28), false) + trained(conv_flops(32, 32, 3, 14, 14));
}
// g and one colour head per image, forward only.
double lntl_g_flops() { return conv_flops(32, 64, 3, 7, 7) + conv_flops(64, 64, 3, 7, 7) + linear_flops(64, 10); }
double lntl_head_flops() { return conv_flops(32, 32, 3, 14, 14) + conv_flops(32, 8, 3, 14, 14); }

double lntl_baseline_flops() { return lntl_f_trained_flops() + 3.0 * lntl_g_flops(); }
// Pass (1): f and g forward and backward, the three heads forward and back to f only (their weights
// get no gradient in this pass: 2 of the 3 passes); pass (2): f and the three heads, all 3 passes.
double lntl_step_flops() {
  return lntl_baseline_flops() + (2.0 + 3.0) * (3.0 * lntl_head_flops()) + lntl_f_trained_flops();
}

struct Timing {
  double median_s = 0;
  int steps = 0;
  double cpu_s = 0;  // process CPU time per step (all threads): on a shared machine, what the step cost
};

double process_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

// Warm-up (first-touch allocation, thread start), then steps until `seconds` have passed (at least
// min_steps); the median resists the other jobs on a shared machine better than the mean.
Timing time_step(Backend& be, const std::function<void()>& step, double seconds, int min_steps) {
  for (int i = 0; i < 3; ++i) step();
  backend_sync(be);
  std::vector<double> times;
  const double cpu0 = process_cpu_seconds();
  Timer total;
  while (static_cast<int>(times.size()) < min_steps || total.seconds() < seconds) {
    Timer t;
    step();
    backend_sync(be);
    times.push_back(t.seconds());
  }
  const double cpu = process_cpu_seconds() - cpu0;
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return Timing{times[times.size() / 2], static_cast<int>(times.size()), cpu / static_cast<double>(times.size())};
}

std::vector<int> random_ints(size_t n, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> v(n);
  for (int& x : v) x = static_cast<int>(rng() % static_cast<uint64_t>(classes));
  return v;
}

Buffer<float> random_pixels(Backend& be, size_t n) {
  Buffer<float> x(be, n);
  fill_uniform(be, x.data(), static_cast<int64_t>(n));
  return x;
}

Buffer<int> device_ints(Backend& be, const std::vector<int>& host) {
  Buffer<int> b(be, host.size());
  b.upload(be, host);
  return b;
}

// The machine's SGEMM rate: a square product large enough to sit at the BLAS kernel's plateau.
double sgemm_gflops(Backend& be, double seconds) {
  const int n = 2048;
  Buffer<float> a = random_pixels(be, static_cast<size_t>(n) * n), b = random_pixels(be, static_cast<size_t>(n) * n),
                c(be, static_cast<size_t>(n) * n);
  Timing t = time_step(
      be, [&] { gemm(be, false, false, n, n, n, 1.0f, a.data(), b.data(), 0.0f, c.data()); }, seconds, 3);
  return 2.0 * n * n * n / t.median_s * 1e-9;
}

// One step's GEMM calls (see the top), from one traced step.
std::vector<cpu::GemmCall> traced_gemms(const std::function<void()>& step) {
  std::vector<cpu::GemmCall> calls;
  cpu::set_gemm_trace(&calls);
  step();
  cpu::set_gemm_trace(nullptr);
  return calls;
}

// Seconds of the given calls replayed back to back on random operands; a call made inside a parallel body
// is replayed inside one, so it is not split either. Only a one-thread figure is meaningful: at more
// threads the nested calls ran side by side, and the replay runs them one after another.
double gemms_alone_seconds(Backend& be, const std::vector<cpu::GemmCall>& calls, double seconds) {
  size_t a = 1, b = 1, c = 1;
  for (const cpu::GemmCall& g : calls) {
    a = std::max(a, static_cast<size_t>(g.M) * g.K);
    b = std::max(b, static_cast<size_t>(g.K) * g.N);
    c = std::max(c, static_cast<size_t>(g.M) * g.N);
  }
  Buffer<float> A = random_pixels(be, a), B = random_pixels(be, b), C = random_pixels(be, c);
  auto run = [&](const cpu::GemmCall& g) {
    cpu::gemm(g.trans_a, g.trans_b, g.M, g.N, g.K, 1.0f, A.data(), B.data(), g.beta, C.data());
  };
  const Timing t = time_step(
      be,
      [&] {
        for (const cpu::GemmCall& g : calls) {
          if (g.nested) cpu::parallel_for(1, [&](int) { run(g); });
          else run(g);
        }
      },
      seconds, 3);
  return t.median_s;
}

// --gemm-shapes: each distinct shape of a step's GEMMs, how often it runs and its GFLOP/s alone.
void print_gemm_shapes(Backend& be, const char* model, const std::vector<cpu::GemmCall>& calls, double seconds,
                       TeeReport& md) {
  std::map<std::tuple<bool, bool, int, int, int, bool, bool>, int> count;
  for (const cpu::GemmCall& g : calls) ++count[{g.trans_a, g.trans_b, g.M, g.N, g.K, g.beta != 0.0f, g.nested}];
  md.printf("\n%s: GEMM shapes of one step, each replayed alone\n\n", model);
  md.printf("| op(A) op(B) | M | N | K | beta | nested | calls | ms/step | GFLOP/s |\n|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& [key, n] : count) {
    const auto& [ta, tb, M, N, K, beta, nested] = key;
    const std::vector<cpu::GemmCall> same(n, cpu::GemmCall{ta, tb, M, N, K, beta ? 1.0f : 0.0f, nested});
    const double s = gemms_alone_seconds(be, same, seconds / 4);
    md.printf("| %c%c | %d | %d | %d | %d | %s | %d | %.3f | %.1f |\n", ta ? 'T' : 'N', tb ? 'T' : 'N', M, N, K,
              beta ? 1 : 0, nested ? "yes" : "no", n, 1e3 * s, 2.0 * M * N * K * n / s * 1e-9);
  }
}

struct Model {
  const char* name;
  int batch;
  double flops_per_image;
  std::function<std::function<void()>(Backend&)> make;  // builds the model and its inputs, returns one step
};

std::vector<Model> models() {
  std::vector<Model> m;
  m.push_back({"cvae", 256, cvae_step_flops(CvaeConfig{}), [](Backend& be) -> std::function<void()> {
                 auto model = std::make_shared<Cvae>(be, CvaeConfig{}, 1);
                 auto adam = std::make_shared<Adam>(be, model->params(), AdamHyper{});
                 auto x = std::make_shared<Buffer<float>>(random_pixels(be, 256 * 784));
                 auto c = std::make_shared<Buffer<float>>(be, 256 * 10);
                 std::vector<float> onehot(256 * 10, 0.0f);
                 for (int r = 0; r < 256; ++r) onehot[r * 10 + r % 10] = 1.0f;
                 c->upload(be, onehot);
                 auto sums = std::make_shared<Buffer<float>>(be, 2);
                 return [&be, model, adam, x, c, sums] {
                   model->params().zero_grad(be);
                   model->elbo(be, x->data(), c->data(), 256, 1.0f, {sums->data(), sums->data() + 1}, true);
                   adam->step(be, model->params());
                 };
               }});
  m.push_back({"vae", 128, cvae_step_flops(vae_config()), [](Backend& be) -> std::function<void()> {
                 auto model = std::make_shared<Cvae>(be, vae_config(), 1);
                 auto adam = std::make_shared<Adam>(be, model->params(), AdamHyper{});
                 auto x = std::make_shared<Buffer<float>>(random_pixels(be, 128 * 784));
                 auto sums = std::make_shared<Buffer<float>>(be, 2);
                 return [&be, model, adam, x, sums] {
                   model->params().zero_grad(be);
                   model->elbo(be, x->data(), nullptr, 128, 1.0f, {sums->data(), sums->data() + 1}, true);
                   adam->step(be, model->params());
                 };
               }});
  m.push_back({"judge", 64, judge_step_flops(), [](Backend& be) -> std::function<void()> {
                 auto model = std::make_shared<Judge>(be, 1);
                 auto x = std::make_shared<Buffer<float>>(random_pixels(be, 64 * 784));
                 auto labels = std::make_shared<Buffer<int>>(device_ints(be, random_ints(64, 10, 1)));
                 auto loss = std::make_shared<Buffer<float>>(be, 1);
                 return [&be, model, x, labels, loss] {
                   model->train_step(be, x->data(), labels->data(), 64, 1e-3f, loss->data());
                 };
               }});
  m.push_back({"mae", 128, mae_step_flops(32), [](Backend& be) -> std::function<void()> {
                 // A learning step of the MAE study: reconstruction + 10 x Q cross-entropy, both Adams.
                 auto model = std::make_shared<Mae>(be, 32, 1);
                 AdamHyper hyper;
                 hyper.lr = 1e-3f;
                 auto ae_adam = std::make_shared<Adam>(be, model->ae(), hyper);
                 auto q_adam = std::make_shared<Adam>(be, model->q(), hyper);
                 auto x = std::make_shared<Buffer<float>>(random_pixels(be, 128 * 784));
                 auto labels = std::make_shared<Buffer<int>>(device_ints(be, random_ints(128, 10, 2)));
                 auto sums = std::make_shared<Buffer<float>>(be, 2);
                 return [&be, model, ae_adam, q_adam, x, labels, sums] {
                   model->ae().zero_grad(be);
                   model->q().zero_grad(be);
                   const MaeObjective obj{x->data(), labels->data(), 10.0f};
                   model->forward_backward(be, x->data(), 128, obj, 1.0f / 128, {sums->data(), sums->data() + 1});
                   ae_adam->step(be, model->ae());
                   q_adam->step(be, model->q());
                 };
               }});
  auto lntl = [](bool full) {
    return [full](Backend& be) -> std::function<void()> {
      const int n = 128;
      auto nets = std::make_shared<LntlNets>(be, 1);
      auto x = std::make_shared<Buffer<float>>(random_pixels(be, static_cast<size_t>(n) * ColoredMnist::kDim));
      auto labels = std::make_shared<Buffer<int>>(device_ints(be, random_ints(n, 10, 3)));
      const size_t bins = static_cast<size_t>(n) * ColoredMnist::kChannels * ColoredMnist::kBinPixels;
      auto bin_labels = std::make_shared<Buffer<int>>(device_ints(be, random_ints(bins, ColoredMnist::kBins, 4)));
      auto losses = std::make_shared<Buffer<float>>(be, 3);
      return [&be, full, nets, x, labels, bin_labels, losses, bins] {
        float* l = losses->data();
        const SgdHyper opt;
        const int per_channel = static_cast<int>(bins) / ColoredMnist::kChannels;
        if (full)
          nets->lntl_step(be, x->data(), labels->data(), bin_labels->data(), {per_channel, per_channel, per_channel}, n,
                          opt, LntlGame{}, {l, l + 1, l + 2});
        else
          nets->baseline_step(be, x->data(), labels->data(), n, opt, {l, l + 1, l + 2});
      };
    };
  };
  m.push_back({"lntl_baseline", 128, lntl_baseline_flops(), lntl(false)});
  m.push_back({"lntl", 128, lntl_step_flops(), lntl(true)});
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  int threads = 1;
  float seconds = 3.0f;
  bool shapes = false;
  Driver d("bench_steps", "Time one training step of every model the studies train (median ms/step, GFLOP/s); the "
           "table goes to stdout and to bench_steps.md in --out.", {"", "runs/bench_steps", 1});
  d.cli().add("threads", &threads, "CPU threads (the engine's pool; OpenBLAS runs inside it)", 1, 256);
  d.cli().add("seconds", &seconds, "timed seconds per model (at least 5 steps)", 0.1, 3600.0);
  d.cli().add("only", &only, "time just this model (empty: all)",
              {"", "cvae", "vae", "judge", "mae", "lntl_baseline", "lntl"});
  d.cli().add_switch("gemm-shapes", &shapes, "after the table, each model's GEMM shapes with their time alone (CPU, 1 thread)");
  return d.main(argc, argv, [&](Driver& d) {
    cpu::set_threads(threads);
    Backend be = d.backend();
    const double peak = sgemm_gflops(be, std::min<double>(seconds, 2.0));
    TeeReport md(d.out_path("bench_steps.md"));
    md.printf("# bench_steps device=%s threads=%d openblas_core=%s conv=%s sgemm_peak_gflops=%.1f\n", be.name(),
              threads, cpu::blas_core(), be.is_cuda() ? "im2col" : cpu::shifted_conv_enabled() ? "shifted" : "im2col",
              peak);
    md.printf("| model | batch | GFLOP/step | ms/step | steps timed | GFLOP/s | %% of SGEMM peak | CPU ms/step | "
              "GEMMs alone ms/step | GEMMs alone %% of peak |\n");
    md.printf("|---|---|---|---|---|---|---|---|---|---|\n");
    const bool floor = !be.is_cuda() && cpu::threads() == 1;
    std::vector<std::pair<const char*, std::vector<cpu::GemmCall>>> traced;
    for (const Model& m : models()) {
      if (!only.empty() && only != m.name) continue;
      const std::function<void()> step = m.make(be);
      const Timing t = time_step(be, step, seconds, 5);
      const double gflop = m.flops_per_image * m.batch * 1e-9;
      const double rate = gflop / t.median_s;
      md.printf("| %s | %d | %.3f | %.3f | %d | %.1f | %.1f | %.3f | ", m.name, m.batch, gflop, 1e3 * t.median_s,
                t.steps, rate, 100.0 * rate / peak, 1e3 * t.cpu_s);
      if (floor) {
        const std::vector<cpu::GemmCall> calls = traced_gemms(step);
        const double alone = gemms_alone_seconds(be, calls, seconds);
        double gemm_gflop = 0.0;  // the traced GEMMs' own FLOPs: with conv=shifted most of the step's are not BLAS's
        for (const cpu::GemmCall& c : calls) gemm_gflop += 2e-9 * c.M * c.N * static_cast<double>(c.K);
        md.printf("%.3f | %.1f |\n", 1e3 * alone, 100.0 * gemm_gflop / alone / peak);
        if (shapes) traced.emplace_back(m.name, calls);
      } else {
        md.printf("- | - |\n");
      }
    }
    if (shapes && !floor) md.printf("\n--gemm-shapes: needs the CPU at --threads 1\n");
    for (const auto& [name, calls] : traced) print_gemm_shapes(be, name, calls, seconds, md);
    md.save();
    return 0;
  });
}
