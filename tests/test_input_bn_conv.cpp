// InputBnConvGrads (engine/input_bn_conv.h): the parameter gradients of conv(batchnorm(x)) taken without
// the convolution's data gradient must equal the plain chain (conv's data gradient into the batch norm's
// backward), for gammas and betas away from their initial 1 and 0 (so both folded terms count), at
// strides 1 and 2, again on a second call (the scratch is reused), and for a smaller batch on the
// buffers of a larger one (an epoch's last batch).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "engine/batchnorm.h"
#include "engine/conv2d.h"
#include "engine/input_bn_conv.h"
#include "tests/gradcheck.h"

namespace {

struct Case {
  int n, c_in, side, c_out, k, stride, pad;
};

void check_against_chain(const Case& cs, uint32_t seed, InputBnConvGrads& folded) {
  Backend be = make_backend("cpu", seed);
  ParamStore p;
  BatchNorm bn(p, "bn", cs.c_in);
  Conv2d conv(p, "conv", cs.c_in, cs.c_out, cs.k, cs.stride, cs.pad);
  p.allocate(be, seed);
  bn.init(be, p);
  std::mt19937 rng(seed);
  for (int c = 0; c < cs.c_in; ++c) {
    p.value(bn.gamma)[c] = std::uniform_real_distribution<float>(0.5f, 2.0f)(rng);
    p.value(bn.beta)[c] = std::uniform_real_distribution<float>(-1.0f, 1.0f)(rng);
  }
  const int hw = cs.side * cs.side, out_side = conv.out_h(cs.side);
  const std::vector<float> x = random_vector(static_cast<size_t>(cs.n) * cs.c_in * hw, rng, -2.0f, 3.0f);
  const std::vector<float> dy = random_vector(static_cast<size_t>(cs.n) * cs.c_out * out_side * out_side, rng);
  std::vector<float> xb(x.size()), dxb(x.size());
  bn.forward_train(be, p, x.data(), cs.n, hw, xb.data());

  p.zero_grad(be);
  conv.backward(be, p, xb.data(), dy.data(), cs.n, cs.side, cs.side, dxb.data());
  bn.backward(be, p, x.data(), dxb.data(), cs.n, hw, nullptr);
  const std::vector<float> want(p.grads(), p.grads() + p.size());

  for (int call = 0; call < 2; ++call) {
    CAPTURE(call);
    p.zero_grad(be);
    folded.backward(be, p, bn, conv, x.data(), dy.data(), cs.n, cs.side, cs.side);
    for (const ParamEntry& e : p.entries())
      for (size_t i = 0; i < e.size; ++i) {
        CAPTURE(e.name);
        CAPTURE(i);
        const float got = p.grads()[e.offset + i], ref = want[e.offset + i];
        CHECK(std::fabs(got - ref) <= 1e-4f * (1.0f + std::fabs(ref)));
      }
  }
}

}  // namespace

TEST_CASE("input batch norm + conv: parameter gradients without the data gradient equal the chain through it") {
  InputBnConvGrads folded;
  check_against_chain(Case{6, 3, 11, 5, 5, 1, 2}, 30, folded);  // LNTL's f.conv1 shape, smaller
  check_against_chain(Case{4, 3, 11, 5, 5, 1, 2}, 31, folded);  // a smaller batch on the same buffers
  check_against_chain(Case{3, 2, 9, 4, 3, 2, 1}, 32, folded);   // strided, odd side
  check_against_chain(Case{2, 1, 8, 3, 3, 1, 0}, 33, folded);   // no padding: S is flat
}
