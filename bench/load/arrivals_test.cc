#include "bench/load/arrivals.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace sllm::loadgen {
namespace {

TEST(PoissonArrivalsTest, SameSeedSameScheduleOtherSeedAnother) {
  PoissonArrivals a(10, 42), b(10, 42), c(10, 43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const double x = a.NextGap();
    EXPECT_EQ(x, b.NextGap());
    differs |= x != c.NextGap();
  }
  EXPECT_TRUE(differs);
}

// Exponential gaps: mean 1/rate and standard deviation 1/rate. With n = 20000 the sample mean's
// standard error is 0.7 % of the mean; 3 % is over four standard errors.
TEST(PoissonArrivalsTest, GapsAreExponentialWithMeanOneOverRate) {
  for (double rate : {0.5, 8.0, 250.0}) {
    PoissonArrivals arrivals(rate, 1);
    const int n = 20000;
    double sum = 0, sum_sq = 0;
    int over_mean = 0;
    for (int i = 0; i < n; ++i) {
      const double g = arrivals.NextGap();
      ASSERT_GE(g, 0);
      ASSERT_TRUE(std::isfinite(g));
      sum += g;
      sum_sq += g * g;
      over_mean += g > 1 / rate;
    }
    const double mean = sum / n;
    const double sd = std::sqrt(sum_sq / n - mean * mean);
    EXPECT_NEAR(mean * rate, 1.0, 0.03) << "rate " << rate;
    EXPECT_NEAR(sd * rate, 1.0, 0.05) << "rate " << rate;
    // P(gap > mean) = e^-1 = 0.368 for an exponential (0.5 for a symmetric distribution).
    EXPECT_NEAR(static_cast<double>(over_mean) / n, std::exp(-1.0), 0.02) << "rate " << rate;
  }
}

}  // namespace
}  // namespace sllm::loadgen
