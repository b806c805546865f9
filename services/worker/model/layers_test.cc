#include "services/worker/model/layers.h"

#include <tuple>

#include <ATen/ATen.h>

#include "gtest/gtest.h"

namespace sllm::worker {
namespace {

// ApplyLinear picks the streaming kernels or libtorch's GEMM by row count, width and dtype;
// every route must compute x W^T + b. Reference: the same product in float64.
class ApplyLinearTest
    : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, at::ScalarType>> {};

TEST_P(ApplyLinearTest, MatchesTheProductInDoublePrecision) {
  const auto [m, k, dtype] = GetParam();
  const int64_t n = 37;
  at::manual_seed(static_cast<uint64_t>(m * 1000 + k));
  const at::Tensor x = at::randn({m, k}).to(dtype);
  const at::Tensor w = at::randn({n, k}).to(dtype);
  const at::Tensor b = at::randn({n}).to(dtype);
  const at::Tensor want =
      at::linear(x.to(at::kDouble), w.to(at::kDouble), b.to(at::kDouble));
  const at::Tensor got = ApplyLinear(x, w, b, at::kFloat);
  ASSERT_EQ(got.sizes(), want.sizes());
  // float32 sums of k products of unit normals: error grows like sqrt(k) * eps * |terms|.
  // libtorch's bfloat16 GEMM also rounds its output to bfloat16 (8 bits of mantissa).
  const double output_rounding = dtype == at::kBFloat16 ? 1.0 / 256 : 0.0;
  const at::Tensor tolerance = 1e-5 * k + want.abs() * output_rounding;
  const at::Tensor excess = (got.to(at::kDouble) - want).abs() - tolerance;
  EXPECT_LE(excess.max().item<double>(), 0.0);
}

// Rows: a decode step (1), a batch past the kernels' row limits (9, 40) and prefills (64,
// 200); widths below and at kWideRowFeatures, where float32 takes the kernels at any rows.
INSTANTIATE_TEST_SUITE_P(Routes, ApplyLinearTest,
                         ::testing::Combine(::testing::Values(1, 9, 40, 64, 200),
                                            ::testing::Values(256, kWideRowFeatures, 2048),
                                            ::testing::Values(at::kFloat, at::kBFloat16)));

}  // namespace
}  // namespace sllm::worker
