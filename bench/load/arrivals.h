// Open-loop arrivals: a Poisson process of `rate` requests per second, i.e. independent
// exponential gaps of mean 1/rate, from a seeded generator (the same seed gives the same
// schedule on every platform: the gaps are computed here, not by std::exponential_distribution).
#ifndef SLLM_BENCH_LOAD_ARRIVALS_H_
#define SLLM_BENCH_LOAD_ARRIVALS_H_

#include <cstdint>
#include <random>

namespace sllm::loadgen {

class PoissonArrivals {
 public:
  // rate > 0 requests per second.
  PoissonArrivals(double rate, uint64_t seed);

  // Seconds from the previous arrival to the next one.
  double NextGap();

 private:
  double rate_;
  std::mt19937_64 rng_;
};

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_ARRIVALS_H_
