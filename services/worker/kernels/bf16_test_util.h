// bfloat16 bit patterns for the kernels' tests.
#ifndef SLLM_SERVICES_WORKER_KERNELS_BF16_TEST_UTIL_H_
#define SLLM_SERVICES_WORKER_KERNELS_BF16_TEST_UTIL_H_

#include <cstdint>
#include <cstring>

namespace sllm::worker::kernels::testing {

// Truncation is enough for test data: only some bfloat16 value is needed.
inline uint16_t ToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return static_cast<uint16_t>(bits >> 16);
}

inline float FromBF16(uint16_t b) {
  const uint32_t bits = uint32_t{b} << 16;
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

}  // namespace sllm::worker::kernels::testing

#endif  // SLLM_SERVICES_WORKER_KERNELS_BF16_TEST_UTIL_H_
