#include "engine/backend.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "engine/buffer.h"

namespace cuda {
CudaProbe probe();
void synchronize();
}

CudaProbe probe_cuda() {
#ifdef AMNESIA_CUDA
  return cuda::probe();
#else
  return {};
#endif
}

Backend make_backend(const std::string& choice, uint64_t seed) {
  Backend be;
  be.seed = seed;
  if (choice == "cpu") return be;
  if (choice != "cuda" && choice != "auto")
    throw std::runtime_error("--device must be auto, cpu or cuda (got '" + choice + "')");
#ifndef AMNESIA_CUDA
  if (choice == "cuda")
    throw std::runtime_error("--device cuda: this build has no CUDA backend (nvcc was not found at configure time)");
#endif
  const CudaProbe p = probe_cuda();
  if (p.state == CudaProbe::Usable) {
    be.device = Device::CUDA;
  } else if (choice == "cuda" || p.state == CudaProbe::Broken) {
    throw std::runtime_error("--device " + choice + ": " + (p.why.empty() ? "no CUDA device is available" : p.why));
  } else if (p.state == CudaProbe::NoKernels) {
    std::fprintf(stderr, "--device auto: %s; running on the CPU\n", p.why.c_str());
  }
  return be;
}

void backend_sync(const Backend& be) {
#ifdef AMNESIA_CUDA
  if (be.is_cuda()) cuda::synchronize();
#else
  (void)be;
#endif
}

namespace cpu {
void* mem_alloc(size_t bytes) {
  // 64-byte alignment keeps OpenBLAS and the vectorised loops on their fast paths.
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) throw std::runtime_error("out of host memory");
  return p;
}
void mem_free(void* p) { std::free(p); }
}  // namespace cpu

#ifdef AMNESIA_CUDA
#define ON_DEVICE(be, cuda_call, cpu_call) do { if ((be).is_cuda()) { cuda_call; } else { cpu_call; } } while (0)
#else
#define ON_DEVICE(be, cuda_call, cpu_call) do { (void)(be); cpu_call; } while (0)
#endif

void copy_in(const Backend& be, void* d, const void* s, size_t n) { ON_DEVICE(be, cuda::copy_to_device(d, s, n), std::memcpy(d, s, n)); }
void copy_out(const Backend& be, void* d, const void* s, size_t n) { ON_DEVICE(be, cuda::copy_to_host(d, s, n), std::memcpy(d, s, n)); }
void copy_on(const Backend& be, void* d, const void* s, size_t n) { ON_DEVICE(be, cuda::copy_device(d, s, n), std::memcpy(d, s, n)); }
void zero_on(const Backend& be, void* p, size_t n) { ON_DEVICE(be, cuda::mem_zero(p, n), std::memset(p, 0, n)); }

void StagedUpload::copy(const Backend& be, void* dst, const void* src, size_t bytes) {
#ifdef AMNESIA_CUDA
  if (be.is_cuda()) {
    if (!staging_) staging_ = std::shared_ptr<cuda::Staging>(cuda::staging_create(), cuda::staging_destroy);
    cuda::upload_staged(staging_.get(), dst, src, bytes);
    return;
  }
#endif
  copy_in(be, dst, src, bytes);
}

void* device_alloc(Device d, size_t bytes) {
  Backend be;
  be.device = d;
  void* p = nullptr;
  ON_DEVICE(be, p = cuda::mem_alloc(bytes), p = cpu::mem_alloc(bytes));
  zero_on(be, p, bytes);
  return p;
}

void device_free(Device d, void* p) {
  Backend be;
  be.device = d;
  ON_DEVICE(be, cuda::mem_free(p), cpu::mem_free(p));
}
