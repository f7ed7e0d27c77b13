// Softmax negative entropy and its gradient on the GPU: one thread per row (8 colour bins per pixel,
// rows = batch x pixels), the loss block-reduced with one atomicAdd per block, as softmax_xent.cu.
#include "engine/ops/softmax_entropy.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void neg_entropy_kernel(const float* logits, int rows, int classes, float scale, float* dlogits,
                                   float* loss_sum) {
  float total = 0.0f;
  GRID_STRIDE(r, rows) {
    const float* l = logits + r * classes;
    float mx = l[0];
    for (int j = 1; j < classes; ++j) mx = fmaxf(mx, l[j]);
    float sum = 0.0f;
    for (int j = 0; j < classes; ++j) sum += expf(l[j] - mx);
    const float log_z = mx + logf(sum);
    float neg_ent = 0.0f;
    for (int j = 0; j < classes; ++j) neg_ent += expf(l[j] - log_z) * (l[j] - log_z);
    total += neg_ent;
    if (!dlogits) continue;
    float* d = dlogits + r * classes;
    for (int j = 0; j < classes; ++j) d[j] = scale * expf(l[j] - log_z) * (l[j] - log_z - neg_ent);
  }
  if (!loss_sum) return;  // same for the whole block
  total = block_sum(total);
  if (threadIdx.x == 0) atomicAdd(loss_sum, scale * total);
}

}  // namespace

namespace cuda {

void softmax_neg_entropy(const float* logits, int rows, int classes, float scale, float* dlogits, float* loss_sum) {
  if (rows <= 0 || classes <= 0 || (!dlogits && !loss_sum)) return;
  neg_entropy_kernel<<<grid_for(rows, kBlock, 1024), kBlock, 0, cuda::stream()>>>(logits, rows, classes, scale, dlogits, loss_sum);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
