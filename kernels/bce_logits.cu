// Binary cross-entropy from logits fused with its gradient, in one pass.
// Per element: loss = max(l, 0) - l t + log1p(exp(-|l|))  (equals -t log s - (1-t) log(1-s), s = sigmoid(l),
// and never overflows); dlogit = scale * (s - t). The loss is block-reduced, one atomicAdd per block.
#include "engine/ops/bce_logits.h"
#include "kernels/cuda_common.cuh"

namespace {

// sigmoid without overflow for large |l|: exp is only ever taken of a non-positive number.
__device__ inline float stable_sigmoid(float l) {
  const float e = expf(-fabsf(l));
  return l >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

__global__ void bce_logits_kernel(const float* logits, const float* target, int64_t n, float scale, float* dlogits,
                                  float* loss_sum) {
  float loss = 0.0f;
  GRID_STRIDE(i, n) {
    const float l = logits[i], t = target[i];
    if (loss_sum) loss += fmaxf(l, 0.0f) - l * t + log1pf(expf(-fabsf(l)));
    if (dlogits) dlogits[i] = scale * (stable_sigmoid(l) - t);
  }
  if (!loss_sum) return;  // same for every thread of the block
  loss = block_sum(loss);
  if (threadIdx.x == 0) atomicAdd(loss_sum, scale * loss);
}

}  // namespace

namespace cuda {

void bce_logits(const float* logits, const float* target, int64_t n, float scale, float* dlogits, float* loss_sum) {
  if (n <= 0 || (!dlogits && !loss_sum)) return;
  bce_logits_kernel<<<grid_for(n, kBlock, 1024), kBlock, 0, cuda::stream()>>>(logits, target, n, scale, dlogits, loss_sum);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
