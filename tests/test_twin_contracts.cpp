// One contract per CPU/CUDA twin pair on the inputs where they used to differ (the CUDA side of each is
// in tests/test_gpu_ops.cpp): labels outside the class range, null optional outputs, null inputs
// rejected before dispatch, and what `--device` makes of a machine without a usable CUDA device.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "engine/backend.h"
#include "engine/ops/concat.h"
#include "engine/ops/ewc.h"
#include "engine/ops/fisher.h"
#include "engine/ops/softmax_xent.h"

namespace {
const Backend kCpu = make_backend("cpu", 1);
}

TEST_CASE("onehot: a label outside [0, nclass) gives an all-zero row, as the CUDA kernel does") {
  const std::vector<int> labels = {2, 3, -1, 0};
  std::vector<float> out(labels.size() * 3, 7.0f);
  onehot(kCpu, labels.data(), 4, 3, out.data());
  CHECK(out == std::vector<float>{0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0});
}

TEST_CASE("softmax_xent: a label >= classes is an ignored row like a negative one, as on the GPU") {
  const std::vector<float> logits = {0.5f, -1.0f, 2.0f, 0.1f, 0.2f, 0.3f, 1.0f, 1.0f, -3.0f};
  const std::vector<int> with_bad = {2, 3, 0}, with_negative = {2, -1, 0};
  std::vector<float> d_bad(9, 9.0f), d_neg(9, 9.0f);
  float loss_bad = 0.0f, loss_neg = 0.0f;
  softmax_xent(kCpu, logits.data(), with_bad.data(), 3, 3, 1.0f, d_bad.data(), &loss_bad);
  softmax_xent(kCpu, logits.data(), with_negative.data(), 3, 3, 1.0f, d_neg.data(), &loss_neg);
  CHECK(loss_bad == loss_neg);
  CHECK(d_bad == d_neg);
  CHECK(d_bad[3] == 0.0f);
  CHECK(d_bad[5] == 0.0f);
}

TEST_CASE("ewc_penalty_and_grad: a null gradient means penalty only, on the CPU too") {
  const std::vector<float> theta = {1, 2, 3}, star = {0, 2, 5}, fisher = {0.5f, 1, 2};
  std::vector<float> grad(3, 0.0f);
  float with_grad = 0.0f, without = 0.0f;
  ewc_penalty_and_grad(kCpu, theta.data(), star.data(), fisher.data(), 3, 10.0f, grad.data(), &with_grad);
  ewc_penalty_and_grad(kCpu, theta.data(), star.data(), fisher.data(), 3, 10.0f, nullptr, &without);
  CHECK(without == with_grad);
  CHECK(with_grad == doctest::Approx(10.0f * (0.5f * 1 + 2 * 4)));
  CHECK_THROWS_AS(ewc_penalty_and_grad(kCpu, theta.data(), nullptr, fisher.data(), 3, 1.0f, grad.data(), nullptr),
                  std::invalid_argument);
}

TEST_CASE("fisher_accumulate: a null bias accumulator means weights only, on the CPU too") {
  const std::vector<float> delta = {1, -2, 0.5f, 3}, a = {2, 1, -1, 0.5f, 4, 1};  // rows 2, out 2, in 3
  std::vector<float> w_with(6, 1.0f), w_without(6, 1.0f), b(2, 0.0f);
  fisher_accumulate(kCpu, delta.data(), a.data(), 2, 2, 3, 0.5f, w_with.data(), b.data());
  fisher_accumulate(kCpu, delta.data(), a.data(), 2, 2, 3, 0.5f, w_without.data(), nullptr);
  CHECK(w_without == w_with);
  CHECK(b[1] == doctest::Approx(0.5f * (4 + 9)));
  CHECK_THROWS_AS(fisher_accumulate(kCpu, nullptr, a.data(), 2, 2, 3, 0.5f, w_with.data(), nullptr),
                  std::invalid_argument);
}

TEST_CASE("--device: auto falls back to the CPU only when no device is usable; cuda names why it cannot run") {
  const CudaProbe probe = probe_cuda();
  if (probe.state == CudaProbe::Usable) {
    CHECK(make_backend("auto", 1).is_cuda());
    return;
  }
  if (probe.state == CudaProbe::Broken) {
    CHECK_THROWS_WITH_AS(make_backend("auto", 1), doctest::Contains(probe.why.c_str()), std::runtime_error);
  } else {
    CHECK_FALSE(make_backend("auto", 1).is_cuda());
  }
  CHECK_THROWS_AS(make_backend("cuda", 1), std::runtime_error);
  CHECK_THROWS_WITH_AS(make_backend("tpu", 1), doctest::Contains("auto, cpu or cuda"), std::runtime_error);
}
