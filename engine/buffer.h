// Owning storage on the backend's device, and Tensor = storage + shape.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/backend.h"

namespace cpu {
void* mem_alloc(size_t bytes);
void mem_free(void* p);
}
namespace cuda {
void* mem_alloc(size_t bytes);
void mem_free(void* p);
void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void copy_device(void* dst, const void* src, size_t bytes);
void mem_zero(void* p, size_t bytes);
struct Staging;
Staging* staging_create();
void staging_destroy(Staging* s);
void upload_staged(Staging* s, void* dst, const void* src, size_t bytes);
}

// Allocation on a device (host memory for Device::CPU), zero-filled.
void* device_alloc(Device d, size_t bytes);
void device_free(Device d, void* p);
// Copies between host memory and memory on `be`'s device (host-to-host on CPU).
void copy_in(const Backend& be, void* dst_dev, const void* src_host, size_t bytes);
void copy_out(const Backend& be, void* dst_host, const void* src_dev, size_t bytes);
void copy_on(const Backend& be, void* dst_dev, const void* src_dev, size_t bytes);
void zero_on(const Backend& be, void* p, size_t bytes);

// Host-to-device uploads that do not drain the device: on CUDA the bytes go through a small ring of
// pinned host buffers and are copied asynchronously in stream order (a copy from ordinary pageable
// memory waits for all queued work first). For per-step uploads such as batch labels; the source may
// be reused as soon as copy() returns. On the CPU it is a plain memcpy.
class StagedUpload {
 public:
  void copy(const Backend& be, void* dst_dev, const void* src_host, size_t bytes);

 private:
  std::shared_ptr<cuda::Staging> staging_;  // created on the first CUDA upload
};

template <typename T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(const Backend& be, size_t n) : n_(n), dev_(be.device) {
    Device d = be.device;
    ptr_ = std::shared_ptr<T>(static_cast<T*>(n ? device_alloc(d, n * sizeof(T)) : nullptr), [d](T* q) {
      if (q) device_free(d, q);
    });
  }
  T* data() const { return ptr_.get(); }
  size_t size() const { return n_; }
  Device device() const { return dev_; }

  void upload(const Backend& be, const std::vector<T>& host) {
    if (host.size() != n_) throw std::runtime_error("upload: size mismatch");
    copy_in(be, data(), host.data(), n_ * sizeof(T));
  }
  std::vector<T> download(const Backend& be) const {
    std::vector<T> host(n_);
    copy_out(be, host.data(), data(), n_ * sizeof(T));
    return host;
  }

 private:
  std::shared_ptr<T> ptr_;
  size_t n_ = 0;
  Device dev_ = Device::CPU;
};

// A float buffer with a shape. Row-major; the first dimension is the batch.
struct Tensor {
  Buffer<float> buf;
  std::vector<int> shape;

  Tensor() = default;
  Tensor(const Backend& be, std::vector<int> s) : buf(be, count(s)), shape(std::move(s)) {}
  float* data() const { return buf.data(); }
  size_t numel() const { return buf.size(); }
  int rows() const { return shape.empty() ? 0 : shape[0]; }
  int cols() const { return rows() ? static_cast<int>(numel() / rows()) : 0; }

  static size_t count(const std::vector<int>& s) {
    size_t n = 1;
    for (int d : s) {
      if (d < 0) throw std::runtime_error("negative tensor dimension");
      n *= static_cast<size_t>(d);
    }
    return n;
  }
};
