// EWC penalty lambda * sum_i F_i (theta_i - theta*_i)^2 and its gradient 2 lambda F (theta - theta*),
// fused in one pass over the flat parameter buffer: the gradient is added in place, the penalty is
// block-reduced with one atomicAdd per block into penalty_sum.
#include "engine/ops/ewc.h"
#include "kernels/cuda_common.cuh"

namespace {

__global__ void ewc_kernel(const float* theta, const float* theta_star, const float* fisher, int64_t n, float lambda,
                           float* grad, float* penalty_sum) {
  const float two_lambda = 2.0f * lambda;
  float penalty = 0.0f;
  GRID_STRIDE(i, n) {
    const float d = theta[i] - theta_star[i];
    const float f = fisher[i];
    penalty += f * d * d;
    if (grad) grad[i] += two_lambda * f * d;
  }
  if (!penalty_sum) return;  // same for every thread of the block
  penalty = block_sum(penalty);
  if (threadIdx.x == 0) atomicAdd(penalty_sum, lambda * penalty);
}

}  // namespace

namespace cuda {

// grad may be null too (penalty only), a small extension of the CPU twin's contract.
void ewc_penalty_and_grad(const float* theta, const float* theta_star, const float* fisher, int64_t n, float lambda,
                          float* grad, float* penalty_sum) {
  if (n <= 0 || (!grad && !penalty_sum)) return;
  ewc_kernel<<<grid_for(n, kBlock, 1024), kBlock, 0, cuda::stream()>>>(theta, theta_star, fisher, n, lambda, grad, penalty_sum);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
