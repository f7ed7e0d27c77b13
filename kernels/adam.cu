// Adam over the whole flat parameter buffer in one launch (PyTorch's Adam, L2 weight decay folded into g).
// The bias corrections depend only on the step, so the host computes them once, in the same float
// arithmetic as the CPU twin.
#include <cmath>

#include "engine/ops/adam.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h, float bc1,
                            float bc2) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float pi = p[i];
    const float gi = g[i] + h.weight_decay * pi;
    const float mi = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
    const float vi = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - h.lr * (mi / bc1) / (sqrtf(vi / bc2) + h.eps);
  }
}

constexpr int kBlock = 256;

}  // namespace

namespace cuda {

void adam_step(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h, int step) {
  if (n <= 0) return;
  const float bc1 = 1.0f - std::pow(h.beta1, static_cast<float>(step));
  const float bc2 = 1.0f - std::pow(h.beta2, static_cast<float>(step));
  adam_kernel<<<grid_for(n, kBlock), kBlock>>>(p, g, m, v, n, h, bc1, bc2);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
