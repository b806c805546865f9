#include "services/worker/quant/cpu_level.h"

namespace sllm::worker::quant {

// __builtin_cpu_supports also checks that the OS saves the AVX / AVX-512 registers (XCR0).
bool CpuSupports(CpuLevel level) {
  switch (level) {
    case CpuLevel::kScalar:
      return true;
    case CpuLevel::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
             __builtin_cpu_supports("f16c");
    case CpuLevel::kAvx512Vnni:
      return CpuSupports(CpuLevel::kAvx2) && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vnni");
  }
  return false;
}

CpuLevel BestCpuLevel() {
  static const CpuLevel best = [] {
    if (CpuSupports(CpuLevel::kAvx512Vnni)) return CpuLevel::kAvx512Vnni;
    if (CpuSupports(CpuLevel::kAvx2)) return CpuLevel::kAvx2;
    return CpuLevel::kScalar;
  }();
  return best;
}

std::string_view CpuLevelName(CpuLevel level) {
  switch (level) {
    case CpuLevel::kScalar:
      return "scalar";
    case CpuLevel::kAvx2:
      return "avx2";
    case CpuLevel::kAvx512Vnni:
      return "avx512vnni";
  }
  return "unknown";
}

}  // namespace sllm::worker::quant
