#include "services/worker/quant/matmul.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"

namespace sllm::worker::quant {
namespace {

std::vector<float> Gaussian(int64_t n, uint32_t seed, float sigma) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// x with the activation quantization applied as matmul.h describes it, computed here
// independently: per 32 values, dx = absmax / 127 and x ~ round(x / dx) * dx.
std::vector<double> QuantizedActivations(const std::vector<float>& x, std::vector<double>* dx) {
  std::vector<double> out(x.size());
  dx->resize(x.size());
  for (size_t g = 0; g < x.size(); g += 32) {
    float amax = 0;
    for (size_t k = g; k < g + 32; ++k) amax = std::max(amax, std::fabs(x[k]));
    const float inverse = amax != 0 ? 127.0f / amax : 0.0f, step = amax / 127.0f;
    for (size_t k = g; k < g + 32; ++k) {
      out[k] = std::nearbyint(x[k] * inverse) * static_cast<double>(step);
      (*dx)[k] = step;
    }
  }
  return out;
}

struct Problem {
  int64_t m, rows, cols;
  std::vector<float> x, w, w_hat;  // w_hat: dequantized.
  QuantizedMatrix q;
};

Problem MakeProblem(QuantType type, int64_t m, int64_t rows, int64_t cols, uint32_t seed) {
  Problem p{m,  rows, cols, Gaussian(m * cols, seed, 1.0f), Gaussian(rows * cols, seed + 1, 0.02f),
            {}, {}};
  // An outlier feature, as LLM activations have.
  for (int64_t r = 0; r < m; ++r) p.x[r * cols + cols / 3] = 20.0f;
  p.q = *Quantize(p.w.data(), rows, cols, type);
  p.w_hat.resize(rows * cols);
  Dequantize(p.q, p.w_hat.data());
  return p;
}

std::vector<float> Compute(const Problem& p, CpuLevel level) {
  std::vector<float> y(p.m * p.rows, -1.0f);
  MatMul(p.x.data(), p.m, p.q, y.data(), nullptr, level);
  return y;
}

class MatMulTest : public testing::TestWithParam<std::tuple<CpuLevel, QuantType>> {
 protected:
  void SetUp() override {
    if (!CpuSupports(level())) GTEST_SKIP() << "this CPU has no " << CpuLevelName(level());
  }
  CpuLevel level() const { return std::get<0>(GetParam()); }
  QuantType type() const { return std::get<1>(GetParam()); }
};

// Against exact (double) products, with bounds derived from the quantization steps:
//  - y vs x_hat . w_hat (both operands as the kernel sees them): float accumulation only.
//  - y vs x . w_hat: plus half an activation step per term, sum |w_hat| * dx / 2.
//  - y vs x . w (unquantized): plus the weight error, sum |x| * |dw| (/ 2 for int8).
TEST_P(MatMulTest, WithinTheQuantizationBounds) {
  const std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 32}, {5, 96}, {37, 512}, {64, 1056}};
  uint32_t seed = 100;
  for (const auto& [rows, cols] : shapes) {
    for (const int64_t m : {1, 3, 17, 64}) {
      const Problem p = MakeProblem(type(), m, rows, cols, ++seed);
      const std::vector<float> y = Compute(p, level());
      for (int64_t r = 0; r < m; ++r) {
        const std::vector<float> x_row(p.x.begin() + r * cols, p.x.begin() + (r + 1) * cols);
        std::vector<double> dx;
        const std::vector<double> x_hat = QuantizedActivations(x_row, &dx);
        for (int64_t i = 0; i < rows; ++i) {
          double exact_hat = 0, abs_hat = 0, exact_x = 0, act_bound = 0, exact_w = 0, w_bound = 0;
          for (int64_t k = 0; k < cols; ++k) {
            const double wh = p.w_hat[i * cols + k], w = p.w[i * cols + k], x = x_row[k];
            exact_hat += x_hat[k] * wh;
            abs_hat += std::fabs(x_hat[k] * wh);
            exact_x += x * wh;
            act_bound += std::fabs(wh) * dx[k] / 2;
            exact_w += x * w;
            const double dw = std::fabs(p.q.scale(i, k / 32));
            w_bound += std::fabs(x) * (type() == QuantType::kInt8 ? dw / 2 : dw);
          }
          const double rounding = 1e-5 * abs_hat + 1e-30;
          const double got = y[r * rows + i];
          const std::string where = "m " + std::to_string(m) + " shape " + std::to_string(rows) +
                                    "x" + std::to_string(cols) + " at [" + std::to_string(r) +
                                    ", " + std::to_string(i) + "]";
          ASSERT_NEAR(got, exact_hat, rounding) << where;
          ASSERT_NEAR(got, exact_x, act_bound + rounding) << where;
          ASSERT_NEAR(got, exact_w, act_bound + w_bound + rounding) << where;
        }
      }
    }
  }
}

// Every SIMD level against the scalar reference: the same integer dot products, float sums in
// another order.
TEST_P(MatMulTest, AgreesWithScalar) {
  // 70 x 8192: several blocks of x rows (256 KiB / 8 KiB = 32 rows); partial tiles of x rows
  // and partial panels of W rows.
  for (const auto& [m, rows, cols] : std::vector<std::tuple<int64_t, int64_t, int64_t>>{
           {1, 2048, 256}, {4, 13, 2048}, {70, 9, 8192}, {17, 45, 1024}}) {
    const Problem p = MakeProblem(type(), m, rows, cols, static_cast<uint32_t>(m * rows));
    const std::vector<float> want = Compute(p, CpuLevel::kScalar);
    const std::vector<float> got = Compute(p, level());
    for (int64_t r = 0; r < m; ++r) {
      for (int64_t i = 0; i < rows; ++i) {
        double abs_sum = 0;
        for (int64_t k = 0; k < cols; ++k) {
          abs_sum += std::fabs(p.x[r * cols + k] * p.w_hat[i * cols + k]);
        }
        ASSERT_NEAR(got[r * rows + i], want[r * rows + i], 2e-6 * abs_sum)
            << "m " << m << " at [" << r << ", " << i << "]";
      }
    }
  }
}

TEST_P(MatMulTest, DeterministicForAnyThreadCount) {
#if defined(__SANITIZE_THREAD__)
  // libgomp is not TSan-instrumented: the `omp barrier` between quantizing the activations and
  // multiplying looks like no synchronisation at all (scripts/sanitize.sh runs one thread).
  GTEST_SKIP() << "OpenMP teams are invisible to TSan";
#endif
  const Problem p = MakeProblem(type(), 5, 301, 2048, 9);  // Big enough to go parallel.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = Compute(p, level());
  omp_set_num_threads(3);
  const std::vector<float> three = Compute(p, level());
  omp_set_num_threads(threads);
  EXPECT_EQ(one, three);
  EXPECT_EQ(Compute(p, level()), one);
}

// Each row of y is computed the same way whatever else is in the batch (tiles of x rows, and
// blocks of W's columns in L1 when there are several tiles, never change the sums).
TEST_P(MatMulTest, BatchInvariant) {
  const Problem p = MakeProblem(type(), 37, 70, 2048, 14);
  const std::vector<float> batch = Compute(p, level());
  for (int64_t r = 0; r < p.m; ++r) {
    std::vector<float> one(p.rows);
    MatMul(p.x.data() + r * p.cols, 1, p.q, one.data(), nullptr, level());
    ASSERT_TRUE(std::equal(one.begin(), one.end(), batch.begin() + r * p.rows)) << "row " << r;
  }
}

TEST_P(MatMulTest, NonFiniteActivationsGiveNanRows) {
  Problem p = MakeProblem(type(), 3, 6, 128, 10);
  p.x[1 * 128 + 77] = std::numeric_limits<float>::infinity();
  const std::vector<float> y = Compute(p, level());
  for (int64_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(std::isfinite(y[i]));
    EXPECT_TRUE(std::isnan(y[6 + i]));
    EXPECT_TRUE(std::isfinite(y[12 + i]));
  }
}

TEST_P(MatMulTest, EmptyBatchWritesNothing) {
  const Problem p = MakeProblem(type(), 1, 4, 64, 11);
  float y = 42.0f;
  MatMul(p.x.data(), 0, p.q, &y, nullptr, level());
  EXPECT_EQ(y, 42.0f);
}

TEST_P(MatMulTest, AddsTheBias) {
  const Problem p = MakeProblem(type(), 6, 11, 256, 13);
  std::vector<float> bias(11);
  for (int64_t i = 0; i < 11; ++i) bias[i] = 0.5f * static_cast<float>(i) - 2.0f;
  const std::vector<float> plain = Compute(p, level());
  std::vector<float> y(6 * 11);
  MatMul(p.x.data(), 6, p.q, y.data(), bias.data(), level());
  for (int64_t r = 0; r < 6; ++r) {
    for (int64_t i = 0; i < 11; ++i) EXPECT_EQ(y[r * 11 + i], plain[r * 11 + i] + bias[i]);
  }
}

INSTANTIATE_TEST_SUITE_P(AllLevels, MatMulTest,
                         testing::Combine(testing::Values(CpuLevel::kScalar, CpuLevel::kAvx2,
                                                          CpuLevel::kAvx512Vnni),
                                          testing::Values(QuantType::kInt8, QuantType::kInt4)),
                         [](const testing::TestParamInfo<MatMulTest::ParamType>& info) {
                           return std::string(CpuLevelName(std::get<0>(info.param))) + "_" +
                                  std::string(QuantTypeName(std::get<1>(info.param)));
                         });

// How far from the float product the quantized one typically lands (relative RMS over all
// outputs), split into the weight error (x . w_hat vs x . w) and the activation error (y vs
// x . w_hat): a regression guard and the numbers quoted in matmul.h.
TEST(MatMulAccuracyTest, TypicalRelativeError) {
  for (const QuantType type : {QuantType::kInt8, QuantType::kInt4}) {
    const Problem p = MakeProblem(type, 16, 256, 2048, 12);
    const std::vector<float> y = Compute(p, BestCpuLevel());
    double total2 = 0, weight2 = 0, act2 = 0, ref2 = 0;
    for (int64_t r = 0; r < p.m; ++r) {
      for (int64_t i = 0; i < p.rows; ++i) {
        double exact = 0, with_w_hat = 0;
        for (int64_t k = 0; k < p.cols; ++k) {
          exact += static_cast<double>(p.x[r * p.cols + k]) * p.w[i * p.cols + k];
          with_w_hat += static_cast<double>(p.x[r * p.cols + k]) * p.w_hat[i * p.cols + k];
        }
        const double got = y[r * p.rows + i];
        total2 += (got - exact) * (got - exact);
        weight2 += (with_w_hat - exact) * (with_w_hat - exact);
        act2 += (got - with_w_hat) * (got - with_w_hat);
        ref2 += exact * exact;
      }
    }
    const double total = std::sqrt(total2 / ref2), weight = std::sqrt(weight2 / ref2),
                 act = std::sqrt(act2 / ref2);
    std::printf("%s: relative RMS error of y: %.4f (weights alone %.4f, activations alone %.4f)\n",
                std::string(QuantTypeName(type)).c_str(), total, weight, act);
    EXPECT_LT(total, type == QuantType::kInt8 ? 0.01 : 0.1);
    EXPECT_LT(act, 0.01);
  }
}

}  // namespace
}  // namespace sllm::worker::quant
