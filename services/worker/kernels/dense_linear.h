// y = x W^T (+ b) for the few activation rows of a decode step, with float32 or bfloat16
// weights. A decode step is a matrix-vector product per sequence: its speed is how fast the
// weights stream from memory, and every weight byte should be read once per step however
// many sequences are in the batch. libtorch 1.13 routes these through BLAS sgemm / oneDNN,
// which reach about half the machine's read bandwidth at one row (bench/results/RESULTS.md).
//
// Layout: x [m, k] float32 row-major, W [n, k] row-major (PyTorch's Linear weight), y [m, n]
// float32. Products and sums are float32 (bfloat16 weights widen exactly to float32).
// No libtorch here: plain pointers, OpenMP threads over output features (libtorch's
// at::set_num_threads sets the same libgomp pool).
#ifndef SLLM_SERVICES_WORKER_KERNELS_DENSE_LINEAR_H_
#define SLLM_SERVICES_WORKER_KERNELS_DENSE_LINEAR_H_

#include <cstdint>

#include "services/worker/kernels/isa.h"

namespace sllm::worker::kernels {

// y[m, n] = x[m, k] W[n, k]^T + bias[n] (bias may be null). Any k >= 1; m >= 1.
void LinearF32(const float* x, int64_t m, const float* w, int64_t n, int64_t k,
               const float* bias, float* y, Isa isa = Isa::kAuto);

// The same with bfloat16 weights (raw uint16 bit patterns) and a float32 bias. With
// kAvx512Bf16 the activations are rounded to bfloat16 first: exact when they are bfloat16
// values already, as in bfloat16 serving.
void LinearBF16(const float* x, int64_t m, const uint16_t* w, int64_t n, int64_t k,
                const float* bias, float* y, Isa isa = Isa::kAuto);

}  // namespace sllm::worker::kernels

#endif  // SLLM_SERVICES_WORKER_KERNELS_DENSE_LINEAR_H_
