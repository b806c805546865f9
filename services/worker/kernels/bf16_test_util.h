// bfloat16 bit patterns for the kernels' tests (the way back is WidenBF16, bf16.h).
#ifndef SLLM_SERVICES_WORKER_KERNELS_BF16_TEST_UTIL_H_
#define SLLM_SERVICES_WORKER_KERNELS_BF16_TEST_UTIL_H_

#include <cstdint>
#include <cstring>

namespace sllm::worker::kernels::testing {

// float32 -> bfloat16 by truncation: enough for test data, which only needs some bfloat16
// value.
inline uint16_t ToBF16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, sizeof(bits));
  return static_cast<uint16_t>(bits >> 16);
}

}  // namespace sllm::worker::kernels::testing

#endif  // SLLM_SERVICES_WORKER_KERNELS_BF16_TEST_UTIL_H_
