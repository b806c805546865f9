// y = x W^T with a quantized W: the linear layers of LLM decode (m = 1..32 sequences, bound by
// the bytes of W streamed from memory) and prefill (m up to ~512, bound by arithmetic).
//
// The activation rows are quantized on the fly to int8 in groups of 32 (dx = absmax / 127,
// per row and group; llama.cpp does the same), and each group's dot product is exact in int32
// (AVX-512 VNNI or AVX2 integer multiply-adds), then scaled by dw * dx into float. Relative to
// the exact product with the dequantized weights the error is at most
// sum_k |w_k| * dx_k / 2 (each activation moves by at most half its step) plus float
// rounding. Measured relative RMS error of y against the float product, Gaussian rows with
// one outlier feature (matmul_test.cc): int8 0.9% (weights alone 0.55%, activations alone
// 0.7%); int4 8.8% (weights alone 8.7%).
//
// Work is split over the OpenMP threads by 32-row panels of W (omp_get_max_threads() of the
// calling thread: at::set_num_threads sets it too, libtorch and this share libgomp); each
// thread streams its own contiguous slice of W. Up to 6 rows of x share each load of W, and
// more rows share an L1-resident block of it, so a batch of m rows reads W from memory once
// (per 256 KB of int8 activations). Each output is computed the same way whatever the batch
// size, the tile of x rows it falls in or the thread count: results are bit-for-bit batch
// invariant (per CPU level).
#ifndef SLLM_SERVICES_WORKER_QUANT_MATMUL_H_
#define SLLM_SERVICES_WORKER_QUANT_MATMUL_H_

#include <cstdint>

#include "services/worker/quant/cpu_level.h"
#include "services/worker/quant/quantized_matrix.h"

namespace sllm::worker::quant {

// y[m, w.rows()] = x[m, w.cols()] * W^T + bias[w.rows()] (bias may be null); x and y row-major
// and contiguous, fp32, not overlapping. Uses the best kernels for this CPU (BestCpuLevel()).
// A NaN or infinity in a row of x makes that row of y NaN.
void MatMul(const float* x, int64_t m, const QuantizedMatrix& w, float* y,
            const float* bias = nullptr);

// The same with the kernels of `level` (tests, benchmarks); CHECK-fails unless
// CpuSupports(level).
void MatMul(const float* x, int64_t m, const QuantizedMatrix& w, float* y, const float* bias,
            CpuLevel level);

}  // namespace sllm::worker::quant

#endif  // SLLM_SERVICES_WORKER_QUANT_MATMUL_H_
