// Which SIMD kernels this CPU can run. The quantized MatMul picks the best level at run time;
// tests and benchmarks can force a lower one.
#ifndef SLLM_SERVICES_WORKER_QUANT_CPU_LEVEL_H_
#define SLLM_SERVICES_WORKER_QUANT_CPU_LEVEL_H_

#include <string_view>

namespace sllm::worker::quant {

// Ordered: each level's CPU also runs the levels below it.
enum class CpuLevel {
  kScalar,      // Portable C++: the reference.
  kAvx2,        // AVX2 + FMA + F16C (Haswell, Zen 1 and later).
  kAvx512Vnni,  // AVX-512 F/BW + VNNI (Ice Lake, Zen 4 and later).
};

// Whether this CPU (and OS, for the AVX-512 register state) runs `level`.
bool CpuSupports(CpuLevel level);
// The highest supported level.
CpuLevel BestCpuLevel();
// "scalar", "avx2", "avx512vnni".
std::string_view CpuLevelName(CpuLevel level);

}  // namespace sllm::worker::quant

#endif  // SLLM_SERVICES_WORKER_QUANT_CPU_LEVEL_H_
