#include "services/worker/kernels/dense_linear.h"

#include <cmath>
#include <random>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "services/worker/kernels/bf16.h"
#include "services/worker/kernels/bf16_test_util.h"

namespace sllm::worker::kernels {
namespace {

using testing::ToBF16;

struct Problem {
  std::vector<float> x, w, bias;
  std::vector<uint16_t> w16;
  int64_t m, n, k;
};

Problem Make(int64_t m, int64_t n, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1, 1);
  Problem p{{}, {}, {}, {}, m, n, k};
  // Activations are bfloat16 values (as in bfloat16 serving), so that the VDPBF16PS path,
  // which rounds them to bfloat16, computes the same products.
  for (int64_t i = 0; i < m * k; ++i) p.x.push_back(WidenBF16(ToBF16(u(rng))));
  for (int64_t i = 0; i < n * k; ++i) {
    p.w16.push_back(ToBF16(u(rng)));
    p.w.push_back(WidenBF16(p.w16.back()));  // Same values in both dtypes.
  }
  for (int64_t j = 0; j < n; ++j) p.bias.push_back(u(rng));
  return p;
}

// Reference in double; |error| of a float32 sum of k products is bounded by ~k * eps * sum|xw|.
void ExpectMatches(const Problem& p, const std::vector<float>& y, bool with_bias) {
  for (int64_t i = 0; i < p.m; ++i) {
    for (int64_t j = 0; j < p.n; ++j) {
      double ref = with_bias ? p.bias[j] : 0.0, mag = 0;
      for (int64_t c = 0; c < p.k; ++c) {
        ref += double{p.x[i * p.k + c]} * p.w[j * p.k + c];
        mag += std::fabs(double{p.x[i * p.k + c]} * p.w[j * p.k + c]);
      }
      ASSERT_NEAR(y[i * p.n + j], ref, 1e-6 * p.k * mag + 1e-6)
          << "m=" << p.m << " n=" << p.n << " k=" << p.k << " at (" << i << ", " << j << ")";
    }
  }
}

class DenseLinearTest : public ::testing::TestWithParam<std::tuple<int, int, int, Isa>> {};

TEST_P(DenseLinearTest, MatchesDoubleReferenceF32AndBF16) {
  const auto [m, n, k, isa] = GetParam();
  if (isa > BestIsa()) GTEST_SKIP() << "this CPU lacks the instructions";
  const Problem p = Make(m, n, k, 7 + m * 31 + n * 17 + k);
  for (bool bias : {false, true}) {
    std::vector<float> y(m * n, NAN);
    LinearF32(p.x.data(), m, p.w.data(), n, k, bias ? p.bias.data() : nullptr, y.data(), isa);
    ExpectMatches(p, y, bias);
    std::vector<float> y16(m * n, NAN);
    LinearBF16(p.x.data(), m, p.w16.data(), n, k, bias ? p.bias.data() : nullptr, y16.data(),
               isa);
    ExpectMatches(p, y16, bias);
  }
}

// m covers every activation tile (1..4 rows and their remainders), n every weight-row
// remainder (of 4-row tiles, and of the 16-row tiles one row takes over short weight rows),
// k whole and partial 16-lane vectors, short rows and long ones.
INSTANTIATE_TEST_SUITE_P(
    Shapes, DenseLinearTest,
    ::testing::Combine(::testing::Values(1, 2, 3, 4, 5, 9, 17),
                       ::testing::Values(1, 4, 7, 37, 66), ::testing::Values(1, 16, 33, 256, 520),
                       ::testing::Values(Isa::kScalar, Isa::kAvx512, Isa::kAvx512Bf16)));

TEST(DenseLinearTest, LargeMatrixIsSplitAcrossThreadsWithTheSameResult) {
  const Problem p = Make(2, 4099, 256, 3);
  std::vector<float> a(2 * 4099), b(2 * 4099);
  LinearF32(p.x.data(), 2, p.w.data(), 4099, 256, nullptr, a.data(), Isa::kScalar);
  LinearF32(p.x.data(), 2, p.w.data(), 4099, 256, nullptr, b.data());
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-4) << i;
}

}  // namespace
}  // namespace sllm::worker::kernels
