// Device memory, the engine's stream, staged (pinned) uploads, and the device probe. Host<->device
// copies of plain host memory are synchronous for the host; device-side copies, zeroing and staged
// uploads are queued on the engine's stream.
#include <cstdio>
#include <cstring>

#include "engine/buffer.h"
#include "kernels/cuda_common.cuh"

namespace cuda {

cudaStream_t stream() {
  // Created on first use and never destroyed, like the cuBLAS handle (see cublas_handle()).
  static cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    CUDA_CHECK(cudaStreamCreate(&created));
    return created;
  }();
  return s;
}

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
  if (!bytes) return;
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()));
  CUDA_CHECK(cudaStreamSynchronize(stream()));  // the caller may reuse src at once
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream()));
  CUDA_CHECK(cudaStreamSynchronize(stream()));
}
void copy_device(void* dst, const void* src, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream()));
}
void mem_zero(void* p, size_t bytes) {
  if (bytes) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream()));
}

// A ring of pinned host slots, each with the event of the copy that last read it. An upload waits only
// for the copy made kSlots uploads earlier, so the host may run that far ahead of the device; a copy
// from pageable memory would instead wait for everything queued before it.
struct Staging {
  static constexpr int kSlots = 8;
  struct Slot {
    void* host = nullptr;
    size_t capacity = 0;
    cudaEvent_t read = nullptr;
  } slots[kSlots];
  int next = 0;
};

Staging* staging_create() { return new Staging; }

void staging_destroy(Staging* s) {
  for (Staging::Slot& slot : s->slots) {  // a destructor: report, never throw
    if (slot.read && cudaEventSynchronize(slot.read) == cudaSuccess) cudaEventDestroy(slot.read);
    if (slot.host) cudaFreeHost(slot.host);
  }
  delete s;
}

void upload_staged(Staging* s, void* dst, const void* src, size_t bytes) {
  if (!bytes) return;
  Staging::Slot& slot = s->slots[s->next];
  s->next = (s->next + 1) % Staging::kSlots;
  if (slot.read) CUDA_CHECK(cudaEventSynchronize(slot.read));
  else CUDA_CHECK(cudaEventCreateWithFlags(&slot.read, cudaEventDisableTiming));
  if (slot.capacity < bytes) {
    if (slot.host) CUDA_CHECK(cudaFreeHost(slot.host));
    slot.host = nullptr;
    CUDA_CHECK(cudaMallocHost(&slot.host, bytes));
    slot.capacity = bytes;
  }
  std::memcpy(slot.host, src, bytes);
  CUDA_CHECK(cudaMemcpyAsync(dst, slot.host, bytes, cudaMemcpyHostToDevice, stream()));
  CUDA_CHECK(cudaEventRecord(slot.read, stream()));
}

namespace {
// Stands for every kernel of this build: all are compiled for the same architectures, so if the
// device can load this one it can load them all.
__global__ void probe_kernel() {}

CudaProbe probe_once() {
  CudaProbe p;
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver == 0) return p;  // no driver installed: no device
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err == cudaErrorNoDevice || (err == cudaSuccess && n == 0)) {
    (void)cudaGetLastError();
    return p;
  }
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    p.state = CudaProbe::Broken;
    p.why = std::string("the CUDA runtime cannot use the device (cudaGetDeviceCount: ") + cudaGetErrorString(err) + ")";
    return p;
  }
  cudaFuncAttributes attr;
  err = cudaFuncGetAttributes(&attr, probe_kernel);
  if (err != cudaSuccess) {
    (void)cudaGetLastError();
    cudaDeviceProp prop;
    const bool named = cudaGetDeviceProperties(&prop, 0) == cudaSuccess;
    p.state = err == cudaErrorNoKernelImageForDevice || err == cudaErrorInvalidDeviceFunction ? CudaProbe::NoKernels
                                                                                                : CudaProbe::Broken;
    p.why = (named ? std::string(prop.name) + " (sm_" + std::to_string(prop.major) + std::to_string(prop.minor) + ")"
                   : std::string("the CUDA device")) +
            " cannot run this build's kernels: " + cudaGetErrorString(err);
    return p;
  }
  p.state = CudaProbe::Usable;
  return p;
}
}  // namespace

CudaProbe probe() {
  static const CudaProbe once = probe_once();
  return once;
}

void synchronize() { CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace cuda
