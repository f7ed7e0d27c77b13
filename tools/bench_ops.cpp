// bench_ops: every device op on the shapes the studies run it at, timed on one device. On CUDA each op's
// result is first checked against its CPU twin on the same inputs (an op that disagrees is reported and
// not timed), then it is run `--warmup` times and timed `--reps` times with CUDA events, one pair per
// run, and the median is reported. On the CPU the twins are timed the same way with the wall clock.
// Throughput is given as GB/s (memory-bound ops: bytes each run must read and write at least) or
// GFLOP/s (GEMMs, the Fisher), against ceilings measured in the same run: a large device-to-device copy
// and a large SGEMM.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "engine/buffer.h"
#include "engine/cpu/thread_pool.h"
#include "engine/device_timer.h"
#include "engine/ops/adam.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/bce_logits.h"
#include "engine/ops/bias_act.h"
#include "engine/ops/concat.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/dropout.h"
#include "engine/ops/ewc.h"
#include "engine/ops/fisher.h"
#include "engine/ops/gemm.h"
#include "engine/ops/pool.h"
#include "engine/ops/reparam_kl.h"
#include "engine/ops/rng.h"
#include "engine/ops/sgd.h"
#include "engine/ops/softmax_entropy.h"
#include "engine/ops/softmax_xent.h"
#include "engine/ops/transpose.h"
#include "engine/run/driver.h"
#include "engine/run/tee_report.h"

namespace {

using Vec = std::vector<float>;
using Ints = std::vector<int>;

// The buffers one op call works on (host memory for the CPU, device memory for CUDA).
struct Args {
  std::vector<float*> f;
  std::vector<int*> i;
};

// One op at one shape: its initial buffers, which of them it writes (checked against the CPU), how much
// it must move or compute per call, and the call itself.
struct Case {
  Case(std::string op_name, std::string shape_text) : op(std::move(op_name)), shape(std::move(shape_text)) {}
  std::string op, shape;
  std::vector<Vec> floats;
  std::vector<Ints> ints;
  std::vector<int> outputs;  // indices into floats
  double bytes = 0, flops = 0;
  std::function<void(Backend&, const Args&)> run;
};

Vec random_vec(std::mt19937& rng, size_t n, float lo, float hi) {
  std::uniform_real_distribution<float> u(lo, hi);
  Vec v(n);
  for (float& x : v) x = u(rng);
  return v;
}
Ints random_ints(std::mt19937& rng, size_t n, int lo, int hi) {
  std::uniform_int_distribution<int> u(lo, hi);
  Ints v(n);
  for (int& x : v) x = u(rng);
  return v;
}
constexpr double kF = sizeof(float);

// The study shapes. CVAE (sa_train / sa_forget): batch 256, 784 + 10 -> 512 -> 256 -> 16 (z 8); judge
// (sa_judge, audits): batch 64, conv 1->10 k5 on 28x28, bn, pool; LNTL: batch 128, 3 x 28 x 28 input BN,
// 8-bin colour heads on 14 x 14; parameters: the CVAE's 1.07 M.
std::vector<Case> study_cases(std::mt19937& rng) {
  std::vector<Case> cs;
  auto gemm_case = [&](const std::string& what, bool ta, bool tb, int m, int n, int k) {
    Case c{"gemm", what + " " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) +
                       (ta ? " A^T" : "") + (tb ? " B^T" : "")};
    c.floats = {random_vec(rng, size_t(m) * k, -1, 1), random_vec(rng, size_t(k) * n, -1, 1), Vec(size_t(m) * n)};
    c.outputs = {2};
    c.flops = 2.0 * m * n * k;
    c.run = [=](Backend& be, const Args& a) { gemm(be, ta, tb, m, n, k, 1.0f, a.f[0], a.f[1], 0.0f, a.f[2]); };
    cs.push_back(c);
  };
  gemm_case("CVAE enc1 fwd", false, true, 256, 512, 794);
  gemm_case("CVAE enc1 dW", true, false, 512, 794, 256);
  gemm_case("CVAE dec3 fwd", false, true, 256, 784, 512);
  gemm_case("judge conv2 fwd", false, false, 20, 64 * 64, 250);

  const int b = 256, x = 784, h1 = 512, z = 8, n_par = 1068820;
  {
    Case c{"bias_act_fwd", "256x512 relu"};
    c.floats = {random_vec(rng, size_t(b) * h1, -1, 1), random_vec(rng, h1, -1, 1)};
    c.outputs = {0};
    c.bytes = 2.0 * b * h1 * kF;
    c.run = [=](Backend& be, const Args& a) { bias_act_fwd(be, a.f[0], a.f[1], b, h1, Act::ReLU); };
    cs.push_back(c);
  }
  {
    Case c{"bias_act_bwd", "256x512 relu + dbias"};
    c.floats = {random_vec(rng, size_t(b) * h1, -1, 1), random_vec(rng, size_t(b) * h1, 0, 1), Vec(h1)};
    c.outputs = {0, 2};
    c.bytes = 3.0 * b * h1 * kF;
    c.run = [=](Backend& be, const Args& a) { bias_act_bwd(be, a.f[0], a.f[1], a.f[2], b, h1, Act::ReLU); };
    cs.push_back(c);
  }
  {
    Case c{"bce_logits", "256x784 loss + grad"};
    c.floats = {random_vec(rng, size_t(b) * x, -4, 4), random_vec(rng, size_t(b) * x, 0, 1), Vec(size_t(b) * x), Vec(1)};
    c.outputs = {2};  // the loss sum accumulates over the timed runs, so only the first call's gradient is compared
    c.bytes = 3.0 * b * x * kF;
    c.run = [=](Backend& be, const Args& a) { bce_logits(be, a.f[0], a.f[1], int64_t(b) * x, 1.0f, a.f[2], a.f[3]); };
    cs.push_back(c);
  }
  {
    Case c{"reparam_kl_fwd", "256 x z 8"};
    c.floats = {random_vec(rng, size_t(b) * 2 * z, -1, 1), random_vec(rng, size_t(b) * z, -2, 2), Vec(size_t(b) * z), Vec(1)};
    c.outputs = {2};
    c.bytes = 4.0 * b * z * kF;
    c.run = [=](Backend& be, const Args& a) { reparam_kl_fwd(be, a.f[0], a.f[1], b, z, 1.0f, a.f[2], a.f[3]); };
    cs.push_back(c);
  }
  {
    Case c{"concat_cols", "256 x (784 | 10)"};
    c.floats = {random_vec(rng, size_t(b) * x, 0, 1), random_vec(rng, size_t(b) * 10, 0, 1), Vec(size_t(b) * (x + 10))};
    c.outputs = {2};
    c.bytes = 2.0 * b * (x + 10) * kF;
    c.run = [=](Backend& be, const Args& a) { concat_cols(be, a.f[0], x, a.f[1], 10, b, a.f[2]); };
    cs.push_back(c);
  }
  {
    Case c{"gather_rows", "256 of 60000 x 784"};
    c.floats = {random_vec(rng, size_t(60000) * x, 0, 1), Vec(size_t(b) * x)};
    c.ints = {random_ints(rng, b, 0, 59999)};
    c.outputs = {1};
    c.bytes = 2.0 * b * x * kF;
    c.run = [=](Backend& be, const Args& a) { gather_rows(be, a.f[0], x, a.i[0], b, a.f[1]); };
    cs.push_back(c);
  }
  {
    Case c{"adam_step", "1.07 M parameters"};
    c.floats = {random_vec(rng, n_par, -1, 1), random_vec(rng, n_par, -1, 1), Vec(n_par), Vec(n_par)};
    c.outputs = {0, 2, 3};
    c.bytes = 7.0 * n_par * kF;  // read p, g, m, v; write p, m, v
    c.run = [=](Backend& be, const Args& a) { adam_step(be, a.f[0], a.f[1], a.f[2], a.f[3], n_par, AdamHyper{}, 1); };
    cs.push_back(c);
  }
  {
    Case c{"ewc_penalty_and_grad", "1.07 M parameters"};
    c.floats = {random_vec(rng, n_par, -1, 1), random_vec(rng, n_par, -1, 1), random_vec(rng, n_par, 0, 1),
                Vec(n_par), Vec(1)};
    c.outputs = {3};
    c.bytes = 5.0 * n_par * kF;
    c.run = [=](Backend& be, const Args& a) {
      ewc_penalty_and_grad(be, a.f[0], a.f[1], a.f[2], n_par, 100.0f, a.f[3], a.f[4]);
    };
    cs.push_back(c);
  }
  {
    Case c{"fisher_accumulate", "500 rows, 512 x 794 (CVAE enc1)"};
    const int rows = 500, out = 512, in = 794;
    c.floats = {random_vec(rng, size_t(rows) * out, -1, 1), random_vec(rng, size_t(rows) * in, -1, 1),
                Vec(size_t(out) * in), Vec(out)};
    c.outputs = {2, 3};
    c.flops = 2.0 * rows * out * in;
    c.run = [=](Backend& be, const Args& a) { fisher_accumulate(be, a.f[0], a.f[1], rows, out, in, 1e-3f, a.f[2], a.f[3]); };
    cs.push_back(c);
  }
  {
    Case c{"rng normal", "256x784"};
    c.floats = {Vec(size_t(b) * x)};
    c.outputs = {0};
    c.bytes = double(b) * x * kF;
    c.run = [=](Backend& be, const Args& a) { fill_normal(be, a.f[0], int64_t(b) * x); };
    cs.push_back(c);
  }

  const ConvGeom conv1{64, 1, 28, 28, 10, 5, 1, 0};
  {
    Case c{"im2col", "judge conv1, batch 64"};
    c.floats = {random_vec(rng, size_t(64) * 784, 0, 1), Vec(conv1.col_rows() * conv1.col_cols())};
    c.outputs = {1};
    c.bytes = (64.0 * 784 + double(conv1.col_rows()) * conv1.col_cols()) * kF;
    c.run = [=](Backend& be, const Args& a) { im2col(be, a.f[0], conv1, a.f[1]); };
    cs.push_back(c);
  }
  {
    Case c{"col2im", "judge conv1, batch 64"};
    c.floats = {random_vec(rng, conv1.col_rows() * conv1.col_cols(), -1, 1), Vec(size_t(64) * 784)};
    c.outputs = {1};
    c.bytes = (64.0 * 784 + double(conv1.col_rows()) * conv1.col_cols()) * kF;
    c.run = [=](Backend& be, const Args& a) { col2im(be, a.f[0], conv1, a.f[1]); };
    cs.push_back(c);
  }
  auto bn_cases = [&](const std::string& what, int n, int ch, int hw) {
    const size_t total = size_t(n) * ch * hw;
    Case f{"batchnorm_fwd_train", what};
    f.floats = {random_vec(rng, total, -1, 2), Vec(ch, 1.0f), Vec(ch), Vec(total), Vec(ch), Vec(ch)};
    f.outputs = {3, 4, 5};
    f.bytes = 3.0 * total * kF;  // two statistics passes and the normalising pass read x; y is written
    f.run = [=](Backend& be, const Args& a) {
      batchnorm_fwd_train(be, a.f[0], a.f[1], a.f[2], n, ch, hw, 1e-5f, 0.1f, a.f[3], a.f[4], a.f[5], nullptr, nullptr);
    };
    cs.push_back(f);
    Case g{"batchnorm_bwd", what};
    g.floats = {random_vec(rng, total, -1, 2), random_vec(rng, total, -1, 1), Vec(ch, 1.0f), Vec(ch, 0.5f),
                Vec(ch, 1.1f), Vec(total), Vec(ch), Vec(ch)};
    g.outputs = {5, 6, 7};
    g.bytes = 5.0 * total * kF;
    g.run = [=](Backend& be, const Args& a) {
      batchnorm_bwd(be, a.f[0], a.f[1], a.f[2], a.f[3], a.f[4], n, ch, hw, a.f[5], a.f[6], a.f[7]);
    };
    cs.push_back(g);
  };
  bn_cases("judge bn1 64x10x24x24", 64, 10, 576);
  bn_cases("judge bn2 64x20x8x8", 64, 20, 64);
  bn_cases("LNTL input 128x3x28x28", 128, 3, 784);
  bn_cases("LNTL heads 128x96x14x14", 128, 96, 196);
  {
    const PoolGeom pg{64, 10, 24, 24, 2, 2, 0};
    Case c{"maxpool_fwd", "judge pool1 64x10x24x24"};
    c.floats = {random_vec(rng, size_t(64) * 10 * 576, -1, 1), Vec(size_t(64) * 10 * 144)};
    c.ints = {Ints(size_t(64) * 10 * 144)};
    c.outputs = {1};
    c.bytes = (64.0 * 10 * 576 + 2.0 * 64 * 10 * 144) * kF;
    c.run = [=](Backend& be, const Args& a) { maxpool_fwd(be, a.f[0], pg, a.f[1], a.i[0]); };
    cs.push_back(c);
  }
  {
    // LNTL f's pool: its backward writes a 28 x 28 plane per channel from a quarter as many gradients.
    const PoolGeom pg{128, 32, 28, 28, 3, 2, 1};
    const size_t in = size_t(128) * 32 * 784, out = size_t(128) * 32 * 196;
    Vec x = random_vec(rng, in, -1, 1), y(out);
    Ints arg(out);
    cpu::maxpool_fwd(x.data(), pg, y.data(), arg.data());  // winners where a real forward puts them
    Case c{"maxpool_bwd", "LNTL f pool 128x32x28x28, 3x3 s2 p1"};
    c.floats = {random_vec(rng, out, -1, 1), Vec(in)};
    c.ints = {arg};
    c.outputs = {1};
    c.bytes = (2.0 * out + in) * kF;
    c.run = [=](Backend& be, const Args& a) { maxpool_bwd(be, a.f[0], a.i[0], pg, a.f[1]); };
    cs.push_back(c);
  }
  {
    Case c{"softmax_xent", "64 x 10 classes"};
    c.floats = {random_vec(rng, 640, -3, 3), Vec(640), Vec(1)};
    c.ints = {random_ints(rng, 64, 0, 9)};
    c.outputs = {1};
    c.bytes = 2.0 * 640 * kF;
    c.run = [=](Backend& be, const Args& a) { softmax_xent(be, a.f[0], a.i[0], 64, 10, 1.0f / 64, a.f[1], a.f[2]); };
    cs.push_back(c);
  }
  {
    const int rows = 128 * 196;
    Case c{"softmax_neg_entropy", "128x196 pixels x 8 bins"};
    c.floats = {random_vec(rng, size_t(rows) * 8, -3, 3), Vec(size_t(rows) * 8), Vec(1)};
    c.outputs = {1};
    c.bytes = 2.0 * rows * 8 * kF;
    c.run = [=](Backend& be, const Args& a) { softmax_neg_entropy(be, a.f[0], rows, 8, 1.0f / rows, a.f[1], a.f[2]); };
    cs.push_back(c);
  }
  {
    Case c{"batched_transpose", "128 x (8 x 196)"};
    c.floats = {random_vec(rng, size_t(128) * 8 * 196, -1, 1), Vec(size_t(128) * 8 * 196)};
    c.outputs = {1};
    c.bytes = 2.0 * 128 * 8 * 196 * kF;
    c.run = [=](Backend& be, const Args& a) { batched_transpose(be, a.f[0], 128, 8, 196, a.f[1]); };
    cs.push_back(c);
  }
  {
    const int64_t n = 64 * 20 * 64;
    Case c{"dropout_apply", "judge conv2 64x20x8x8 (channel)"};
    c.floats = {random_vec(rng, n, -1, 1), random_vec(rng, n / 64, 0, 1), Vec(n)};
    c.outputs = {2};
    c.bytes = 2.0 * n * kF;
    c.run = [=](Backend& be, const Args& a) { dropout_apply(be, a.f[0], a.f[1], n, 64, 0.5f, a.f[2]); };
    cs.push_back(c);
  }
  {
    const int64_t n = 150000;
    Case c{"sgd_step", "150 k parameters (LNTL f)"};
    c.floats = {random_vec(rng, n, -1, 1), random_vec(rng, n, -1, 1), Vec(n)};
    c.outputs = {0, 2};
    c.bytes = 5.0 * n * kF;
    c.run = [=](Backend& be, const Args& a) { sgd_step(be, a.f[0], a.f[1], a.f[2], n, SgdHyper{}); };
    cs.push_back(c);
  }
  return cs;
}

// A case's buffers on one backend, filled with its initial contents.
struct Bound {
  std::vector<Buffer<float>> f;
  std::vector<Buffer<int>> i;
  Args args;
  Bound(const Backend& be, const Case& c) {
    for (const Vec& v : c.floats) {
      f.emplace_back(be, v.size());
      f.back().upload(be, v);
      args.f.push_back(f.back().data());
    }
    for (const Ints& v : c.ints) {
      i.emplace_back(be, v.size());
      i.back().upload(be, v);
      args.i.push_back(i.back().data());
    }
  }
};

// Largest relative L2 distance over the case's outputs between one call on `be` and one on the CPU.
double check_against_cpu(Backend& be, const Case& c, uint64_t seed) {
  Backend host = make_backend("cpu", seed);
  Backend dev = be;
  dev.rng_counter = 0;
  Bound on_host(host, c), on_dev(dev, c);
  c.run(host, on_host.args);
  c.run(dev, on_dev.args);
  double worst = 0.0;
  for (int k : c.outputs) {
    const Vec want = on_host.f[size_t(k)].download(host), got = on_dev.f[size_t(k)].download(dev);
    double diff = 0.0, ref = 0.0;
    for (size_t j = 0; j < want.size(); ++j) {
      diff += (double(got[j]) - want[j]) * (double(got[j]) - want[j]);
      ref += double(want[j]) * want[j];
    }
    worst = std::max(worst, ref > 0 ? std::sqrt(diff / ref) : std::sqrt(diff));
  }
  return worst;
}

// Median milliseconds of `reps` timed calls after `warmup` untimed ones.
double median_ms(Backend& be, const std::function<void()>& call, int warmup, int reps) {
  for (int k = 0; k < warmup; ++k) call();
  backend_sync(be);
  DeviceTimer timer(be);
  std::vector<double> ms;
  for (int k = 0; k < reps; ++k) {
    timer.start();
    call();
    ms.push_back(timer.stop_ms());
  }
  std::nth_element(ms.begin(), ms.begin() + reps / 2, ms.end());
  return ms[size_t(reps / 2)];
}

struct Ceilings {
  double gbps = 0, gflops = 0;
  std::string copy_shape, gemm_shape;
};

// What this device can do at best, measured now: a large device-to-device copy (read + write) and a
// large square SGEMM.
Ceilings measure_ceilings(Backend& be, int warmup, int reps) {
  Ceilings c;
  const size_t floats = size_t(64) << 20;  // 256 MiB each way
  Buffer<float> src(be, floats), dst(be, floats);
  const double copy_ms =
      median_ms(be, [&] { copy_on(be, dst.data(), src.data(), floats * sizeof(float)); }, warmup, reps);
  c.gbps = 2.0 * floats * kF / (copy_ms * 1e6);
  c.copy_shape = "copy 256 MiB";
  const int n = be.is_cuda() ? 8192 : 1024;
  Buffer<float> a(be, size_t(n) * n), b(be, size_t(n) * n), out(be, size_t(n) * n);
  const double gemm_ms = median_ms(
      be, [&] { gemm(be, false, false, n, n, n, 1.0f, a.data(), b.data(), 0.0f, out.data()); }, warmup,
      std::max(3, reps / 4));
  c.gflops = 2.0 * n * n * double(n) / (gemm_ms * 1e6);
  c.gemm_shape = "SGEMM " + std::to_string(n) + "^3";
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 50, warmup = 5, threads = 0;
  std::string only;
  Driver d("bench_ops", "Check every device op against its CPU twin, then time it on the study shapes; the table "
           "goes to stdout and to bench_ops.md in --out.", {"", "runs/bench_ops", 1});
  d.cli().add("reps", &reps, "timed calls per op (the median is reported)", 1, 100000);
  d.cli().add("warmup", &warmup, "untimed calls before timing", 0, 100000);
  d.cli().add("only", &only, "time only the ops whose name contains this");
  d.cli().add("threads", &threads,
              "CPU threads (the engine's pool); 0: its default ($AMNESIA_THREADS, else $OPENBLAS_NUM_THREADS, "
              "else every hardware thread)",
              0, 256);
  return d.main(argc, argv, [&](Driver& d) {
    if (threads > 0) cpu::set_threads(threads);
    Backend be = d.backend();
    std::mt19937 rng(7);
    std::vector<Case> cases = study_cases(rng);
    const Ceilings top = measure_ceilings(be, warmup, reps);

    std::ostringstream md;
    md << "Device: " << be.name() << " (CPU pool: " << cpu::threads() << " threads). Ceilings measured in this run: "
       << top.copy_shape << " " << top.gbps << " GB/s; " << top.gemm_shape << " " << top.gflops << " GFLOP/s. Median of " << reps << " timed calls after "
       << warmup << " warm-up calls. (Above 100 % of the copy ceiling: the op's data fit in a cache the "
       << "256 MiB copy cannot use.)\n\n"
       << "| op | shape | vs CPU twin (rel. L2) | median | throughput | of ceiling |\n|---|---|---|---|---|---|\n";
    int bad = 0;
    for (const Case& c : cases) {
      if (!only.empty() && c.op.find(only) == std::string::npos) continue;
      char check[32] = "(is the CPU twin)";
      if (be.is_cuda()) {
        const double err = check_against_cpu(be, c, d.seed());
        std::snprintf(check, sizeof check, "%.1e%s", err, err <= 1e-3 ? "" : " **FAIL**");
        if (!(err <= 1e-3)) {
          ++bad;
          md << "| " << c.op << " | " << c.shape << " | " << check << " | not timed | | |\n";
          continue;
        }
      }
      Bound bound(be, c);
      const double ms = median_ms(be, [&] { c.run(be, bound.args); }, warmup, reps);
      char line[160];
      if (c.flops > 0)
        std::snprintf(line, sizeof line, "%.1f us | %.1f GFLOP/s | %.0f %%", 1e3 * ms, c.flops / (ms * 1e6),
                      100.0 * c.flops / (ms * 1e6) / top.gflops);
      else
        std::snprintf(line, sizeof line, "%.1f us | %.1f GB/s | %.0f %%", 1e3 * ms, c.bytes / (ms * 1e6),
                      100.0 * c.bytes / (ms * 1e6) / top.gbps);
      md << "| " << c.op << " | " << c.shape << " | " << check << " | " << line << " |\n";
    }
    TeeReport report(d.out_path("bench_ops.md"));
    report.append(md.str());
    report.save();
    if (bad) std::fprintf(stderr, "bench_ops: %d op(s) disagree with their CPU twin\n", bad);
    return bad ? 1 : 0;
  });
}
