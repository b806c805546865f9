// Which instruction set a kernel uses; every kernel takes one, kAuto by default, so tests can
// run each code path on any CPU that has it.
#ifndef SLLM_SERVICES_WORKER_KERNELS_ISA_H_
#define SLLM_SERVICES_WORKER_KERNELS_ISA_H_

namespace sllm::worker::kernels {

// kAuto picks the best this CPU has. kAvx512Bf16 (Zen 4, Sapphire Rapids) adds VDPBF16PS,
// which the dense kernels use to multiply bfloat16 weights by activations rounded to
// bfloat16; with kAvx512 they widen bfloat16 weights to float32. kScalar is portable code.
enum class Isa { kAuto, kScalar, kAvx512, kAvx512Bf16 };

// The ISA kAuto resolves to on this CPU.
Isa BestIsa();

}  // namespace sllm::worker::kernels

#endif  // SLLM_SERVICES_WORKER_KERNELS_ISA_H_
