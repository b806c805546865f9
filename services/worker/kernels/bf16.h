// bfloat16 <-> float32 for the kernels: bfloat16 is the top half of a float32.
#ifndef SLLM_SERVICES_WORKER_KERNELS_BF16_H_
#define SLLM_SERVICES_WORKER_KERNELS_BF16_H_

#include <cstdint>
#include <cstring>

namespace sllm::worker::kernels {

// Exact.
inline float WidenBF16(uint16_t b) {
  const uint32_t bits = uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

}  // namespace sllm::worker::kernels

#endif  // SLLM_SERVICES_WORKER_KERNELS_BF16_H_
