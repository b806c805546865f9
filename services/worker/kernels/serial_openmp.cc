#include "services/worker/kernels/serial_openmp.h"

#include <omp.h>

#include <atomic>

namespace sllm::worker::kernels {
namespace {
std::atomic<bool> serial_small_gemms{true};
}  // namespace

bool SmallGemm(int64_t macs) { return serial_small_gemms && macs < kMinThreadedGemmMacs; }

void SetSerialSmallGemms(bool enabled) { serial_small_gemms = enabled; }

SerialOpenMpScope::SerialOpenMpScope(bool serial) {
  if (!serial) return;
  saved_ = omp_get_max_active_levels();
  omp_set_max_active_levels(0);
}

SerialOpenMpScope::~SerialOpenMpScope() {
  if (saved_ >= 0) omp_set_max_active_levels(saved_);
}

}  // namespace sllm::worker::kernels
