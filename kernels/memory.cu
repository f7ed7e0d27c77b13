// Device memory and the device queries the Backend needs. Copies are synchronous with respect to the
// host for host<->device; device-side copies and zeroing are ordered on the default stream.
#include <cstdio>

#include "engine/buffer.h"
#include "kernels/cuda_common.cuh"

namespace cuda {

void* mem_alloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  CUDA_CHECK(cudaMalloc(&p, bytes));
  return p;
}

// Called from Buffer's deleter (a destructor), so it must not throw. At process exit the runtime may
// already be unloading; that is not worth a message.
void mem_free(void* p) {
  if (!p) return;
  cudaError_t err = cudaFree(p);
  if (err != cudaSuccess && err != cudaErrorCudartUnloading)
    std::fprintf(stderr, "cuda::mem_free: %s\n", cudaGetErrorString(err));
}

void copy_to_device(void* dst, const void* src, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
}
void copy_device(void* dst, const void* src, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0));
}
void mem_zero(void* p, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, 0));
}

// Never throws: "no driver" or "no device" just means the CUDA backend is unavailable.
bool device_count_positive() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky-free error so later calls start clean
    return false;
  }
  return n > 0;
}

void synchronize() { CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace cuda
