// Shared by every kernels/*.cu: error checks that throw with file:line, the one cuBLAS handle,
// launch sizing for grid-stride loops, and the block sum used by the fused loss kernels.
// Everything runs on the default stream (stream 0) for now.
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

// One handle for the process, created on first use and deliberately never destroyed (destroying it
// from a static destructor can run after the CUDA runtime has unloaded).
inline cublasHandle_t cublas_handle() {
  static cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    CUBLAS_CHECK(cublasCreate(&h));
    // Plain fp32: no TF32 tensor-core math, so results match the CPU reference to fp32 rounding.
    CUBLAS_CHECK(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH));
    CUBLAS_CHECK(cublasSetStream(h, 0));
    return h;
  }();
  return handle;
}

// Blocks for a grid-stride loop over n elements: enough to fill the GPU, capped so that
// per-block atomics (loss sums) stay few; the loop covers whatever the grid does not.
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
