// Shared by every kernels/*.cu: error checks that throw with file:line, the engine's one stream and
// cuBLAS handle, grid-stride loops and their launch sizing, and the block reductions of the fused loss
// and batch-norm kernels.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

[[noreturn]] inline void cuda_fail(const char* what, const char* expr, const char* file, int line) {
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + expr + ": " + what);
}

#define CUDA_CHECK(call)                                                              \
  do {                                                                                \
    cudaError_t err_ = (call);                                                        \
    if (err_ != cudaSuccess) cuda_fail(cudaGetErrorString(err_), #call, __FILE__, __LINE__); \
  } while (0)

#define CUBLAS_CHECK(call)                                                               \
  do {                                                                                   \
    cublasStatus_t st_ = (call);                                                         \
    if (st_ != CUBLAS_STATUS_SUCCESS) cuda_fail(cublasGetStatusString(st_), #call, __FILE__, __LINE__); \
  } while (0)

// After every <<<...>>>: catches bad launch configurations at the launch site, not at the next sync.
#define CUDA_LAUNCH_CHECK() CUDA_CHECK(cudaGetLastError())

namespace cuda {
// Every kernel, copy and cuBLAS call of the engine is queued on this one stream, in program order. It is
// a created (blocking) stream rather than the legacy default stream because only a created stream can be
// captured into a CUDA Graph; being blocking, it still orders itself after any legacy-stream work.
cudaStream_t stream();

// While a StepGraph (engine/step_graph.h) captures a step, the launchers whose scalar arguments change
// from step to step read them from the device instead, so that a replay does not reuse the captured
// values: the random ops' counter offset (relative to rng_base, which the graph's owner writes before
// each replay) and Adam's step (a device counter the replay advances). Null when nothing is captured.
struct ReplayInputs {
  uint64_t rng_base_at_capture = 0;  // be.rng_counter when the capture began
  const uint64_t* rng_base = nullptr;  // device: be.rng_counter at the start of the running replay
  // A device int that a node captured just before its use advances by one on every replay, starting
  // from step - 1: the first replay sees `step`, the next step + 1 (Adam's step count).
  virtual int* step_counter(int step) = 0;

 protected:
  ~ReplayInputs() = default;
};
ReplayInputs* replay_inputs();
}  // namespace cuda

// One handle for the process, created on first use and deliberately never destroyed (destroying it
// from a static destructor can run after the CUDA runtime has unloaded).
inline cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    CUBLAS_CHECK(cublasCreate(&h));
    // Plain fp32: no TF32 tensor-core math, so results match the CPU reference to fp32 rounding.
    CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    CUBLAS_CHECK(cublasSetStream(h, cuda::stream()));
    // cuBLAS's own workspace, set once, so that no GEMM allocates: a step captured in a graph must not.
    constexpr size_t kWorkspace = size_t(32) << 20;
    void* workspace = nullptr;
    CUDA_CHECK(cudaMalloc(&workspace, kWorkspace));
    CUBLAS_CHECK(cublasSetWorkspace(h, workspace, kWorkspace));
    return h;
  }();
  return handle;
}

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, capped so that
// per-block atomics (loss sums) stay few; the loop covers whatever the grid does not.
// for (int64_t i ...) over [0, n) with the whole grid, 64-bit indices so any n works.
#define GRID_STRIDE(i, n)                                                                  \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Threads per block of the element-wise and row-wise kernels.
constexpr int kBlock = 256;

inline int grid_for(int64_t n, int block, int max_blocks = 4096) {
  int64_t blocks = (n + block - 1) / block;
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(blocks, max_blocks)));
}

__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sum over a 1-D block whose size is a multiple of 32 (at most 1024); the result is valid in thread 0.
// Call once per kernel (the shared scratch is not re-synchronised for a second use).
__device__ inline float block_sum(float v) {
  __shared__ float warp_part[32];
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0) warp_part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < static_cast<int>(blockDim.x / 32) ? warp_part[lane] : 0.0f;
    v = warp_sum(v);
  }
  return v;
}

// Block-wide sum returned to EVERY thread; unlike block_sum it may be called several times in one
// kernel (the trailing barrier keeps the next call from overwriting the scratch before all have read).
__device__ inline float block_allreduce(float v) {
  __shared__ float part[32];
  __shared__ float total;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  v = warp_sum(v);
  if (lane == 0) part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float t = lane < static_cast<int>(blockDim.x / 32) ? part[lane] : 0.0f;
    t = warp_sum(t);
    if (lane == 0) total = t;
  }
  __syncthreads();
  const float r = total;
  __syncthreads();
  return r;
}
