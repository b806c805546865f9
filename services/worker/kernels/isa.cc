#include "services/worker/kernels/isa.h"

namespace sllm::worker::kernels {

Isa BestIsa() {
  static const Isa best = [] {
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl")) {
      return Isa::kScalar;
    }
    return __builtin_cpu_supports("avx512bf16") ? Isa::kAvx512Bf16 : Isa::kAvx512;
  }();
  return best;
}

}  // namespace sllm::worker::kernels
