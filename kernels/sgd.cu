// SGD with momentum and weight decay over the flat parameter buffer in one launch (see engine/ops/sgd.h).
#include "engine/ops/sgd.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void sgd_kernel(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const float pi = p[i];
    const float bi = h.momentum * buf[i] + (g[i] + h.weight_decay * pi);
    buf[i] = bi;
    p[i] = pi - h.lr * bi;
  }
}

constexpr int kBlock = 256;

}  // namespace

namespace cuda {

void sgd_step(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  if (n <= 0) return;
  sgd_kernel<<<grid_for(n, kBlock), kBlock>>>(p, g, buf, n, h);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
