// Adam over the whole flat parameter buffer in one launch (PyTorch's Adam, L2 weight decay folded into g).
// The bias corrections depend only on the step, so the host computes them once, in the same float
// arithmetic as the CPU twin. Inside a captured step (engine/step_graph.h) the step lives in a device
// counter that each replay advances, and the kernel computes the corrections from it itself.
#include <cmath>

#include "engine/ops/adam.h"
#include "kernels/cuda_common.cuh"

namespace {

// step_counter: null (use bc1, bc2 as given) or the device step of a captured Adam.
__global__ void adam_kernel(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h, float bc1,
                            float bc2, const int* step_counter) {
  if (step_counter) {
    bc1 = 1.0f - powf(h.beta1, static_cast<float>(*step_counter));
    bc2 = 1.0f - powf(h.beta2, static_cast<float>(*step_counter));
  }
  GRID_STRIDE(i, n) {
    const float pi = p[i];
    const float gi = g[i] + h.weight_decay * pi;
    const float mi = h.beta1 * m[i] + (1.0f - h.beta1) * gi;
    const float vi = h.beta2 * v[i] + (1.0f - h.beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - h.lr * (mi / bc1) / (sqrtf(vi / bc2) + h.eps);
  }
}

__global__ void advance_kernel(int* counter) { ++*counter; }

}  // namespace

namespace cuda {

void adam_step(float* p, const float* g, float* m, float* v, int64_t n, AdamHyper h, int step) {
  if (n <= 0) return;
  const float bc1 = 1.0f - std::pow(h.beta1, static_cast<float>(step));
  const float bc2 = 1.0f - std::pow(h.beta2, static_cast<float>(step));
  int* counter = nullptr;
  if (ReplayInputs* r = replay_inputs()) {
    counter = r->step_counter(step);
    advance_kernel<<<1, 1, 0, cuda::stream()>>>(counter);
    CUDA_LAUNCH_CHECK();
  }
  adam_kernel<<<grid_for(n, kBlock), kBlock, 0, cuda::stream()>>>(p, g, m, v, n, h, bc1, bc2, counter);
  CUDA_LAUNCH_CHECK();
}

}  // namespace cuda
