// The transposed convolution and the whole MAE on the GPU against the CPU. No new kernel is involved
// (both are compositions of the conv2d primitives and existing ops), so this checks the composition:
// workspace offsets, layouts and accumulation on a device where every pointer is a device pointer.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/ops/conv_transpose2d.h"
#include "models/mae.h"
#include "tests/gpu_check.h"

using namespace gpu_check;

TEST_CASE("gpu conv_transpose2d forward and backward (data, weight, bias) match the CPU") {
  Backend be = gpu();
  std::mt19937 rng(501);
  const ConvTransposeGeom cases[] = {
      // n, c_in, h, w, c_out, k, stride, pad, out_pad
      {3, 32, 7, 7, 16, 3, 2, 1, 1}, {3, 16, 14, 14, 1, 3, 2, 1, 1}, {2, 3, 5, 4, 2, 4, 2, 1, 0},
      {2, 2, 3, 4, 3, 3, 3, 0, 2},   {1, 3, 6, 5, 4, 3, 1, 1, 0},
  };
  for (const ConvTransposeGeom& g : cases) {
    CAPTURE(g.c_in); CAPTURE(g.h); CAPTURE(g.k); CAPTURE(g.stride); CAPTURE(g.out_pad);
    const size_t nx = static_cast<size_t>(g.n) * g.c_in * g.h * g.w, ny = g.out_floats();
    const size_t nw = static_cast<size_t>(g.c_in) * g.c_out * g.k * g.k;
    conv_like_parity(
        be, rng, g, nx, ny, nw,
        [&](const Backend& on, const float* x, const float* w, const float* b, float* y, float* ws) {
          conv_transpose2d_fwd(on, g, x, w, b, y, ws);
        },
        [&](const Backend& on, const float* x, const float* w, const float* dy, float* dx, float* dw, float* db,
            float* ws) { conv_transpose2d_bwd(on, g, x, w, dy, dx, dw, db, ws); });
  }
}

namespace {
void check_grads(const Backend& be, const ParamStore& on_gpu, const ParamStore& on_cpu) {
  check_per_tensor(on_cpu, host_copy(be, on_gpu.grads(), on_gpu.size()),
                   Vec(on_cpu.grads(), on_cpu.grads() + on_cpu.size()), "gradient");
}
}  // namespace

TEST_CASE("gpu MAE: outputs, losses and gradients of both objectives match the CPU") {
  Backend be = gpu(), host = make_backend("cpu", 1);
  const int rows = 5, code = 8;
  Mae on_gpu(be, code, 3), on_cpu(host, code, 3);  // same seed: identical initial weights
  std::mt19937 rng(502);
  const Vec x = rand_vec(rng, static_cast<size_t>(rows) * Mae::kPixels, 0.0f, 1.0f);
  const Vec gray(x.size(), 0.5f);
  const std::vector<int> labels = {0, 3, 9, 3, 7};
  Buffer<float> xd = to_dev(be, x), grayd = to_dev(be, gray);
  Buffer<int> labelsd = to_dev(be, labels);

  Vec logits(x.size()), q(rows * Mae::kClasses);
  on_cpu.outputs(host, x.data(), rows, logits.data(), q.data());
  Buffer<float> logitsd = poisoned(be, x.size()), qd = poisoned(be, q.size());
  on_gpu.outputs(be, xd.data(), rows, logitsd.data(), qd.data());
  check_close(fetch(be, logitsd, x.size()), logits, "pixel logits");
  check_close(fetch(be, qd, q.size()), q, "Q logits");

  for (bool learn : {true, false}) {
    CAPTURE(learn);
    const float q_weight = learn ? 10.0f : 50.0f;
    float recon = 1.0f, q_loss = 1.0f;  // the losses are added (+=)
    on_cpu.ae().zero_grad(host);
    on_cpu.q().zero_grad(host);
    on_cpu.forward_backward(host, x.data(), rows,
                            {learn ? x.data() : gray.data(), learn ? labels.data() : nullptr, q_weight}, 0.2f,
                            {&recon, &q_loss});
    Buffer<float> recond = dev_scalar(be, 1.0f), qlossd = dev_scalar(be, 1.0f);
    on_gpu.ae().zero_grad(be);
    on_gpu.q().zero_grad(be);
    on_gpu.forward_backward(be, xd.data(), rows,
                            {learn ? xd.data() : grayd.data(), learn ? labelsd.data() : nullptr, q_weight}, 0.2f,
                            {recond.data(), qlossd.data()});
    check_close(recond.download(be)[0], recon, "recon loss (+=)");
    check_close(qlossd.download(be)[0], q_loss, "Q loss (+=)");
    check_grads(be, on_gpu.ae(), on_cpu.ae());
    check_grads(be, on_gpu.q(), on_cpu.q());
  }
}
