// The machine's streaming read bandwidth, measured the way a decode step reads weights: every
// thread sums its own slice of one large buffer. The bar for "weight bytes moved per second"
// (issue 9: batch-1 decode should reach >= 70 % of it).
#ifndef SLLM_BENCH_ENGINE_MEMORY_BANDWIDTH_H_
#define SLLM_BENCH_ENGINE_MEMORY_BANDWIDTH_H_

#include <cstdint>

namespace sllm::bench {

struct BandwidthOptions {
  // Buffer size; far larger than the last-level cache so reads come from DRAM.
  int64_t bytes = int64_t{1} << 30;
  // Reader threads (one slice each).
  int threads = 1;
  // Passes over the buffer; the fastest counts (the host is shared and noisy).
  int repetitions = 5;
};

// Bytes per second of the fastest pass.
double MeasureReadBandwidth(const BandwidthOptions& options);

}  // namespace sllm::bench

#endif  // SLLM_BENCH_ENGINE_MEMORY_BANDWIDTH_H_
