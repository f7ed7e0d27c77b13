// Parameter gradients of a convolution over an affine map of its input (see engine/ops/affine_conv_grads.h).
#include "engine/ops/affine_conv_grads.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void affine_conv_weight_grad_kernel(const float* g, const float* s, const float* gamma, const float* beta,
                                               int c_out, int c_in, int taps, float* dw) {
  const int64_t n = static_cast<int64_t>(c_out) * c_in * taps;
  GRID_STRIDE(at, n) {
    const int t = static_cast<int>(at % taps), c = static_cast<int>(at / taps % c_in);
    const int o = static_cast<int>(at / taps / c_in);
    dw[at] += gamma[c] * g[at] + beta[c] * s[static_cast<int64_t>(o) * taps + t];
  }
}

// One thread per input channel, the sums in (o, t) order in double, as the CPU twin.
__global__ void affine_conv_affine_grad_kernel(const float* w, const float* g, const float* s, int c_out, int c_in,
                                               int taps, float* dgamma, float* dbeta) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= c_in) return;
  double wg = 0.0, ws = 0.0;
  for (int o = 0; o < c_out; ++o)
    for (int t = 0; t < taps; ++t) {
      const int64_t at = (static_cast<int64_t>(o) * c_in + c) * taps + t;
      wg += static_cast<double>(w[at]) * g[at];
      ws += static_cast<double>(w[at]) * s[static_cast<int64_t>(o) * taps + t];
    }
  dgamma[c] += static_cast<float>(wg);
  dbeta[c] += static_cast<float>(ws);
}

}  // namespace

namespace cuda {

void affine_conv_grads(const float* w, const float* g, const float* s, const float* gamma, const float* beta,
                       int c_out, int c_in, int taps, float* dw, float* dgamma, float* dbeta) {
  const int64_t n = static_cast<int64_t>(c_out) * c_in * taps;
  if (n <= 0) return;
  affine_conv_weight_grad_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(g, s, gamma, beta, c_out, c_in,
                                                                                      taps, dw);
  CUDA_LAUNCH_CHECK();
  affine_conv_affine_grad_kernel<<<(c_in + 63) / 64, 64, 0, cuda::stream()>>>(w, g, s, c_out, c_in, taps, dgamma,
                                                                             dbeta);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
