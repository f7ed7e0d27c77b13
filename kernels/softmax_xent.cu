// Softmax and softmax cross-entropy on the GPU: one thread per row. The class counts here are small
// (10 digits, 8 colour bins), so a row is a few dozen flops and a thread per row keeps the kernel
// trivial; rows are many (a batch, or batch x pixels for per-pixel heads). The loss is block-reduced
// with one atomicAdd per block, as in the BCE kernel.
#include "engine/ops/softmax_xent.h"
#include "kernels/cuda_common.cuh"

namespace {

__device__ inline void row_stats(const float* l, int classes, float& mx, float& sum) {
  mx = l[0];
  for (int j = 1; j < classes; ++j) mx = fmaxf(mx, l[j]);
  sum = 0.0f;
  for (int j = 0; j < classes; ++j) sum += expf(l[j] - mx);
}

__global__ void softmax_xent_kernel(const float* logits, const int* labels, int rows, int classes, float scale,
                                    float* dlogits, float* loss_sum) {
  float loss = 0.0f;
  GRID_STRIDE(r, rows) {
    const float* l = logits + r * classes;
    float* d = dlogits ? dlogits + r * classes : nullptr;
    const int label = labels[r];
    if (label < 0 || label >= classes) {
      if (d)
        for (int j = 0; j < classes; ++j) d[j] = 0.0f;
      continue;
    }
    float mx, sum;
    row_stats(l, classes, mx, sum);
    loss += logf(sum) + mx - l[label];
    if (d) {
      const float inv = 1.0f / sum;
      for (int j = 0; j < classes; ++j) d[j] = scale * (expf(l[j] - mx) * inv - (j == label ? 1.0f : 0.0f));
    }
  }
  if (!loss_sum) return;  // same for the whole block
  loss = block_sum(loss);
  if (threadIdx.x == 0) atomicAdd(loss_sum, scale * loss);
}

__global__ void softmax_kernel(const float* logits, int rows, int classes, float* probs) {
  GRID_STRIDE(r, rows) {
    const float* l = logits + r * classes;
    float* p = probs + r * classes;
    float mx, sum;
    row_stats(l, classes, mx, sum);
    const float inv = 1.0f / sum;
    for (int j = 0; j < classes; ++j) p[j] = expf(l[j] - mx) * inv;
  }
}

}  // namespace

namespace cuda {

void softmax_xent(const float* logits, const int* labels, int rows, int classes, float scale, float* dlogits,
                  float* loss_sum) {
  if (rows <= 0 || classes <= 0 || (!dlogits && !loss_sum)) return;
  softmax_xent_kernel<<<grid_for(rows, kBlock, 1024), kBlock, 0, cuda::stream()>>>(logits, labels, rows, classes, scale, dlogits,
                                                                 loss_sum);
  CUDA_LAUNCH_CHECK();
}

void softmax(const float* logits, int rows, int classes, float* probs) {
  if (rows <= 0 || classes <= 0) return;
  softmax_kernel<<<grid_for(rows, kBlock), kBlock, 0, cuda::stream()>>>(logits, rows, classes, probs);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
