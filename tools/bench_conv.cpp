// bench_conv: the CPU's convolution paths (engine/cpu/conv_cpu.h), the im2col + BLAS chunks, the
// shifted-plane AVX-512 kernels and, for 3x3 stride-1 layers, Winograd F(2x2, 3x3) (forward and data
// gradient; its weight gradient is the shifted path's), side by side on every convolution the studies
// train (the transposed ones as their mirror convolutions). Each repetition runs the forward, the weight
// + bias gradient and the data gradient of one path, then of the next, on the same random operands, so
// all see the same machine load; the table gives each pass's minimum process CPU time over the
// repetitions (the steadiest measure on a shared machine), its GFLOP/s (Winograd's counts the direct
// convolution's FLOPs, which it does not all execute) and the ratios. Without AVX-512 only the im2col
// column is timed.
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <random>
#include <stdexcept>
#include <vector>

#include "engine/cpu/blas_kernels.h"
#include "engine/cpu/conv_chunks.h"
#include "engine/cpu/conv_cpu.h"
#include "engine/cpu/conv_shifted.h"
#include "engine/cpu/conv_winograd.h"
#include "engine/cpu/thread_pool.h"
#include "engine/run/driver.h"
#include "engine/run/tee_report.h"

namespace {

struct Shape {
  const char* layer;
  ConvGeom g;
};

// The studies' convolutions at their training batch sizes (a ConvTranspose2d runs its mirror convolution
// backwards: the MAE's deconv1 and deconv2 are the mirrors of its conv2 and conv1).
const Shape kShapes[] = {
    {"lntl f.conv1", {128, 3, 28, 28, 32, 5, 1, 2}},   {"lntl f.conv2", {128, 32, 14, 14, 32, 3, 1, 1}},
    {"lntl h.conv1 x3", {128, 32, 14, 14, 96, 3, 1, 1}}, {"lntl h.conv2", {128, 32, 14, 14, 8, 3, 1, 1}},
    {"lntl g.conv2", {128, 64, 7, 7, 64, 3, 1, 1}},    {"judge conv1", {64, 1, 28, 28, 10, 5, 1, 0}},
    {"judge conv2", {64, 10, 12, 12, 20, 5, 1, 0}},    {"lntl g.conv1 (stride 2)", {128, 32, 14, 14, 64, 3, 2, 1}},
    {"mae conv1 (stride 2)", {128, 1, 28, 28, 16, 3, 2, 1}}, {"mae conv2 (stride 2)", {128, 16, 14, 14, 32, 3, 2, 1}},
};

double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return 1e3 * static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_nsec);
}

struct Operands {
  std::vector<float> x, w, b, dy, y, dx, dw, db, ws;
};

// Minimum CPU ms of each pass (forward, dW + db, dx) of one path, folded into best.
template <class Fwd, class Bwd>
void time_passes(const ConvGeom& g, Operands& o, const Fwd& fwd, const Bwd& bwd, double best[3]) {
  const double t0 = cpu_ms();
  fwd(g, o.x.data(), o.w.data(), o.b.data(), o.y.data(), o.ws.data());
  const double t1 = cpu_ms();
  bwd(g, o.x.data(), o.w.data(), o.dy.data(), nullptr, o.dw.data(), o.db.data(), o.ws.data());
  const double t2 = cpu_ms();
  bwd(g, o.x.data(), o.w.data(), o.dy.data(), o.dx.data(), nullptr, nullptr, o.ws.data());
  const double t3 = cpu_ms();
  best[0] = std::min(best[0], t1 - t0);
  best[1] = std::min(best[1], t2 - t1);
  best[2] = std::min(best[2], t3 - t2);
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 10;
  Driver d("bench_conv", "Time the CPU's im2col, shifted-plane and (3x3 stride-1 layers) Winograd convolutions side "
           "by side on the studies' convolutions (min CPU ms per pass); the table goes to stdout and to bench_conv.md "
           "in --out.",
           {"", "runs/bench_conv", 1});
  d.cli().add("threads", &threads, "CPU threads (the engine's pool)", 1, 256);
  d.cli().add("reps", &reps, "repetitions of each pass per path (the minimum is reported)", 1, 10000);
  return d.main(argc, argv, [&](Driver& d) {
    if (d.flags().device == "cuda") throw std::runtime_error("--device cuda: bench_conv times the CPU's convolutions only");
    cpu::set_threads(threads);
    const bool shifted = cpu::shifted_conv_enabled();
    TeeReport md(d.out_path("bench_conv.md"));
    md.printf("# bench_conv threads=%d openblas_core=%s shifted=%s reps=%d (min process CPU ms per pass)\n", threads,
              cpu::blas_core(), shifted ? "on" : "off (no AVX-512, or AMNESIA_AVX512=off)", reps);
    md.printf("| layer | N x C_in x H x W -> C_out, k | GFLOP/pass | pass | im2col ms | GFLOP/s | shifted ms | GFLOP/s | "
              "im2col / shifted | Winograd ms | GFLOP/s | shifted / Winograd |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    std::mt19937 rng(static_cast<uint32_t>(d.seed()));
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    for (const Shape& s : kShapes) {
      const ConvGeom& g = s.g;
      Operands o;
      const size_t nx = static_cast<size_t>(g.n) * g.c_in * g.h * g.w, ny = static_cast<size_t>(g.n) * g.c_out * g.oh() * g.ow();
      for (auto* v : {&o.x, &o.dx}) v->resize(nx);
      for (auto* v : {&o.y, &o.dy}) v->resize(ny);
      for (auto* v : {&o.w, &o.dw}) v->resize(static_cast<size_t>(g.c_out) * g.col_rows());
      for (auto* v : {&o.b, &o.db}) v->resize(g.c_out);
      for (auto* v : {&o.x, &o.w, &o.b, &o.dy})
        for (float& f : *v) f = u(rng);
      const bool winograd = cpu::winograd_conv_applies(g);
      o.ws.resize(std::max({cpu::conv_chunks_workspace(g), shifted ? cpu::shifted_conv_workspace(g) : 0,
                            winograd ? cpu::conv_workspace(g) : 0}));
      double im2col[3] = {1e30, 1e30, 1e30}, plane[3] = {1e30, 1e30, 1e30}, wino[3] = {1e30, 1e30, 1e30};
      for (int r = 0; r < reps; ++r) {
        time_passes(g, o, cpu::conv_chunks_forward, cpu::conv_chunks_backward, im2col);
        if (shifted) time_passes(g, o, cpu::shifted_conv_forward, cpu::shifted_conv_backward, plane);
        // Where Winograd applies, the dispatcher (conv_cpu.h) runs it: forward and dx by Winograd, dW shifted.
        if (winograd) time_passes(g, o, cpu::conv_forward, cpu::conv_backward, wino);
      }
      const double gflop = 2e-9 * g.c_out * static_cast<double>(g.col_rows()) * g.oh() * g.ow() * g.n;
      const char* passes[3] = {"forward", "dW + db", "dx"};
      for (int p = 0; p < 3; ++p) {
        md.printf("| %s | %d x %d x %d x %d -> %d, %dx%d | %.3f | %s | %.3f | %.1f | ", s.layer, g.n, g.c_in, g.h, g.w,
                  g.c_out, g.k, g.k, gflop, passes[p], im2col[p], gflop / im2col[p] * 1e3);
        if (shifted)
          md.printf("%.3f | %.1f | %.2fx | ", plane[p], gflop / plane[p] * 1e3, im2col[p] / plane[p]);
        else
          md.printf("- | - | - | ");
        if (winograd && p != 1)
          md.printf("%.3f | %.1f | %.2fx |\n", wino[p], gflop / wino[p] * 1e3, plane[p] / wino[p]);
        else
          md.printf("- | - | - |\n");
      }
    }
    md.save();
    return 0;
  });
}
