// Summary statistics of latency samples: mean and percentiles with linear interpolation between
// the closest ranks (numpy's default `percentile`, as vLLM's benchmark_serving reports them).
#ifndef SLLM_BENCH_LOAD_STATS_H_
#define SLLM_BENCH_LOAD_STATS_H_

#include <cstddef>
#include <vector>

namespace sllm::loadgen {

struct Summary {
  size_t count = 0;
  // All zero when count is 0.
  double mean = 0, min = 0, max = 0, p50 = 0, p90 = 0, p99 = 0;
};

// The q-th percentile (q in [0, 100]) of `sorted` (ascending, not empty): rank q/100 * (n-1),
// interpolated linearly between its neighbours.
double Percentile(const std::vector<double>& sorted, double q);

// Mean, min, max, p50, p90 and p99 of `values` (any order).
Summary Summarize(std::vector<double> values);

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_STATS_H_
