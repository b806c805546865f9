// A heap array aligned to a 64-byte cache line (internal to quant/): SIMD kernels load whole
// lines, and rows that start on a line never split a vector load across two lines.
#ifndef SLLM_SERVICES_WORKER_QUANT_ALIGNED_BUFFER_H_
#define SLLM_SERVICES_WORKER_QUANT_ALIGNED_BUFFER_H_

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

namespace sllm::worker::quant::internal {

inline constexpr size_t kCacheLine = 64;

template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  // `size` zero-initialized elements.
  explicit AlignedBuffer(size_t size) { Reset(size); }

  // Replaces the contents with `size` zero-initialized elements.
  void Reset(size_t size) {
    data_.reset();
    size_ = size;
    if (size == 0) return;
    const size_t bytes = (size * sizeof(T) + kCacheLine - 1) / kCacheLine * kCacheLine;
    void* p = std::aligned_alloc(kCacheLine, bytes);
    if (p == nullptr) throw std::bad_alloc();
    std::memset(p, 0, bytes);
    data_.reset(static_cast<T*>(p));
  }
  // Makes room for at least `size` elements; the contents are unspecified afterwards.
  void Reserve(size_t size) {
    if (size > size_) Reset(size);
  }

  T* data() { return data_.get(); }
  const T* data() const { return data_.get(); }
  size_t size() const { return size_; }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T[], Free> data_;
  size_t size_ = 0;
};

}  // namespace sllm::worker::quant::internal

#endif  // SLLM_SERVICES_WORKER_QUANT_ALIGNED_BUFFER_H_
