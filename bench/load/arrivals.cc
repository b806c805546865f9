#include "bench/load/arrivals.h"

#include <cmath>

#include "glog/logging.h"

namespace sllm::loadgen {

PoissonArrivals::PoissonArrivals(double rate, uint64_t seed) : rate_(rate), rng_(seed) {
  CHECK_GT(rate, 0);
}

double PoissonArrivals::NextGap() {
  // u uniform in [0, 1) from the top 53 bits; -log(1 - u) / rate is exponential with mean 1/rate.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  return -std::log1p(-u) / rate_;
}

}  // namespace sllm::loadgen
