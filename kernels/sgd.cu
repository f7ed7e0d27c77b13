// SGD with momentum and weight decay over the flat parameter buffer in one launch (see engine/ops/sgd.h).
#include "engine/ops/sgd.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void sgd_kernel(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  GRID_STRIDE(i, n) {
    const float pi = p[i];
    const float bi = h.momentum * buf[i] + (g[i] + h.weight_decay * pi);
    buf[i] = bi;
    p[i] = pi - h.lr * bi;
  }
}

}  // namespace

namespace cuda {

void sgd_step(float* p, const float* g, float* buf, int64_t n, SgdHyper h) {
  if (n <= 0) return;
  sgd_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(p, g, buf, n, h);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
