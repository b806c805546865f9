#include "services/worker/quant/quantized_matrix.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/worker/quant/fp16.h"

namespace sllm::worker::quant {
namespace {

using ::testing::HasSubstr;

std::vector<float> Gaussian(int64_t n, uint32_t seed, float sigma = 0.02f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

std::vector<float> Dequantized(const QuantizedMatrix& q) {
  std::vector<float> out(q.rows() * q.cols());
  Dequantize(q, out.data());
  return out;
}

// Checks the per-group error bounds of quantized_matrix.h for every weight.
void ExpectWithinBounds(const std::vector<float>& w, const QuantizedMatrix& q) {
  const std::vector<float> back = Dequantized(q);
  for (int64_t row = 0; row < q.rows(); ++row) {
    for (int64_t col = 0; col < q.cols(); ++col) {
      const float d = std::fabs(q.scale(row, col / 32));
      const float x = w[row * q.cols() + col], y = back[row * q.cols() + col];
      const float slack = 1e-6f * d + 1e-7f * std::fabs(x);  // float rounding of w / d, q * d.
      const float err = std::fabs(x - y);
      if (q.type() == QuantType::kInt8) {
        ASSERT_LE(err, d / 2 + slack) << "at [" << row << ", " << col << "]";
      } else {
        // Only values clipped to the top level q = 7 may miss by more than half a step.
        const bool clipped = d > 0 && std::nearbyint(y / q.scale(row, col / 32)) == 7;
        ASSERT_LE(err, (clipped ? d : d / 2) + slack) << "at [" << row << ", " << col << "]";
      }
    }
  }
}

TEST(QuantizedMatrixTest, RejectsInputDimNotAMultipleOf32) {
  const std::vector<float> w(4 * 33);
  const absl::StatusOr<QuantizedMatrix> q = Quantize(w.data(), 4, 33, QuantType::kInt8);
  ASSERT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(q.status().message(), HasSubstr("4x33"));
  EXPECT_THAT(q.status().message(), HasSubstr("multiple of 32"));
  EXPECT_EQ(Quantize(w.data(), 4, 0, QuantType::kInt4).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Quantize(w.data(), -1, 32, QuantType::kInt4).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(QuantizedMatrixTest, RejectsNonFiniteWeights) {
  std::vector<float> w = Gaussian(3 * 64, 1);
  w[2 * 64 + 5] = std::numeric_limits<float>::quiet_NaN();
  const absl::StatusOr<QuantizedMatrix> q = Quantize(w.data(), 3, 64, QuantType::kInt8);
  ASSERT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(q.status().message(), HasSubstr("[2, 5]"));
  w[2 * 64 + 5] = 0;
  w[64 + 7] = -std::numeric_limits<float>::infinity();
  EXPECT_THAT(Quantize(w.data(), 3, 64, QuantType::kInt4).status().message(), HasSubstr("[1, 7]"));
}

TEST(QuantizedMatrixTest, RejectsGroupsBeyondTheFp16ScaleRange) {
  std::vector<float> w(32, 1.0f);
  w[3] = 1e6f;  // 1e6 / 127 fits an fp16 scale, 1e6 / 8 does not.
  EXPECT_TRUE(Quantize(w.data(), 1, 32, QuantType::kInt8).ok());
  EXPECT_THAT(Quantize(w.data(), 1, 32, QuantType::kInt4).status().message(),
              HasSubstr("too large"));
  w[3] = 1e7f;
  EXPECT_FALSE(Quantize(w.data(), 1, 32, QuantType::kInt8).ok());
}

TEST(QuantizedMatrixTest, Int8ErrorWithinHalfAStep) {
  // 96 columns: three groups, so the last chunk is half padding.
  for (const int64_t cols : {32, 96, 2048}) {
    const std::vector<float> w = Gaussian(7 * cols, 2);
    absl::StatusOr<QuantizedMatrix> q = Quantize(w.data(), 7, cols, QuantType::kInt8);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(q->rows(), 7);
    EXPECT_EQ(q->cols(), cols);
    ExpectWithinBounds(w, *q);
    // The scale is absmax / 127 rounded up to fp16: tight to 2^-10.
    for (int64_t g = 0; g < cols / 32; ++g) {
      float amax = 0;
      for (int k = 0; k < 32; ++k) amax = std::max(amax, std::fabs(w[g * 32 + k]));
      EXPECT_GE(q->scale(0, g), amax / 127);
      EXPECT_LE(q->scale(0, g), amax / 127 * (1 + 0x1p-10f));
    }
  }
}

TEST(QuantizedMatrixTest, Int4ErrorWithinHalfAStepExceptTheClippedTop) {
  for (const int64_t cols : {32, 96, 2048}) {
    const std::vector<float> w = Gaussian(7 * cols, 3);
    absl::StatusOr<QuantizedMatrix> q = Quantize(w.data(), 7, cols, QuantType::kInt4);
    ASSERT_TRUE(q.ok()) << q.status();
    ExpectWithinBounds(w, *q);
  }
}

TEST(QuantizedMatrixTest, Int4RepresentsTheLargestMagnitudeAsMinus8) {
  std::vector<float> w = Gaussian(64, 4, 1.0f);
  w[10] = 5.0f;   // Group 0's extreme is positive: d < 0.
  w[40] = -6.0f;  // Group 1's is negative: d > 0.
  absl::StatusOr<QuantizedMatrix> q = Quantize(w.data(), 1, 64, QuantType::kInt4);
  ASSERT_TRUE(q.ok());
  EXPECT_LT(q->scale(0, 0), 0);
  EXPECT_GT(q->scale(0, 1), 0);
  const std::vector<float> back = Dequantized(*q);
  EXPECT_NEAR(back[10], 5.0f, 5.0f * 0x1p-10f);
  EXPECT_NEAR(back[40], -6.0f, 6.0f * 0x1p-10f);
  EXPECT_FLOAT_EQ(back[10], -8 * q->scale(0, 0));
}

TEST(QuantizedMatrixTest, ZeroAndTinyGroups) {
  std::vector<float> w(3 * 32, 0.0f);
  for (int k = 0; k < 32; ++k) w[32 + k] = (k - 16) * 1e-9f;  // Subnormal fp16 scale.
  for (int k = 0; k < 32; ++k) w[64 + k] = (k % 2 ? 1 : -1) * 1e-30f;
  for (const QuantType type : {QuantType::kInt8, QuantType::kInt4}) {
    absl::StatusOr<QuantizedMatrix> q = Quantize(w.data(), 1, 96, type);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->scale(0, 0), 0.0f);
    ExpectWithinBounds(w, *q);
    const std::vector<float> back = Dequantized(*q);
    for (int k = 0; k < 32; ++k) EXPECT_EQ(back[k], 0.0f);
  }
}

TEST(QuantizedMatrixTest, ByteSizeCountsValuesScalesAndPaddingRows) {
  const std::vector<float> w = Gaussian(64 * 2048, 5);
  // 64 rows: two panels; per row the values and one fp16 scale per 32.
  EXPECT_EQ(Quantize(w.data(), 64, 2048, QuantType::kInt8)->ByteSize(), 64 * (2048 + 64 * 2));
  EXPECT_EQ(Quantize(w.data(), 64, 2048, QuantType::kInt4)->ByteSize(), 64 * (1024 + 64 * 2));
  // 33 rows: padded to two panels of 32.
  EXPECT_EQ(Quantize(w.data(), 33, 96, QuantType::kInt8)->ByteSize(), 64 * (96 + 3 * 2));
  EXPECT_EQ(Quantize(w.data(), 33, 96, QuantType::kInt4)->ByteSize(), 64 * (48 + 3 * 2));
  EXPECT_EQ(Quantize(w.data(), 0, 96, QuantType::kInt4)->ByteSize(), 0);
  EXPECT_EQ(QuantizedMatrix().ByteSize(), 0);
}

TEST(QuantizedMatrixTest, Bf16AndFp16SourcesMatchFloat) {
  const int64_t rows = 5, cols = 128;
  std::vector<float> w = Gaussian(rows * cols, 6);
  std::vector<uint16_t> bf16(w.size()), fp16(w.size());
  for (size_t k = 0; k < w.size(); ++k) {
    bf16[k] = static_cast<uint16_t>(std::bit_cast<uint32_t>(w[k]) >> 16);  // Truncation.
    w[k] = Bf16ToFloat(bf16[k]);
    fp16[k] = FloatToHalf(w[k]);
  }
  for (const QuantType type : {QuantType::kInt8, QuantType::kInt4}) {
    const std::vector<float> from_float = Dequantized(*Quantize(w.data(), rows, cols, type));
    EXPECT_EQ(Dequantized(*Quantize(bf16.data(), WeightFormat::kBFloat16, rows, cols, type)),
              from_float);
    std::vector<float> via_fp16(w.size());
    for (size_t k = 0; k < w.size(); ++k) via_fp16[k] = HalfToFloat(fp16[k]);
    EXPECT_EQ(Dequantized(*Quantize(fp16.data(), WeightFormat::kFloat16, rows, cols, type)),
              Dequantized(*Quantize(via_fp16.data(), rows, cols, type)));
  }
}

TEST(QuantizedMatrixTest, DeterministicAndIndependentOfThreading) {
  // Large enough for the parallel panel loop; every row must equal the row quantized alone.
  const int64_t rows = 600, cols = 2048;
  const std::vector<float> w = Gaussian(rows * cols, 7);
  for (const QuantType type : {QuantType::kInt8, QuantType::kInt4}) {
    const QuantizedMatrix q = *Quantize(w.data(), rows, cols, type);
    EXPECT_EQ(Dequantized(q), Dequantized(*Quantize(w.data(), rows, cols, type)));
    const std::vector<float> all = Dequantized(q);
    for (const int64_t row : {0, 1, 17, 299, 599}) {
      const QuantizedMatrix one = *Quantize(w.data() + row * cols, 1, cols, type);
      const std::vector<float> alone = Dequantized(one);
      ASSERT_TRUE(std::equal(alone.begin(), alone.end(), all.begin() + row * cols)) << row;
      for (int64_t g = 0; g < cols / 32; ++g) ASSERT_EQ(one.scale(0, g), q.scale(row, g));
    }
  }
}

TEST(QuantizedMatrixTest, TypeNames) {
  EXPECT_EQ(QuantTypeName(QuantType::kInt8), "int8");
  EXPECT_EQ(QuantTypeName(QuantType::kInt4), "int4");
  EXPECT_EQ(ParseQuantType("int4"), QuantType::kInt4);
  EXPECT_EQ(ParseQuantType("int8"), QuantType::kInt8);
  EXPECT_EQ(ParseQuantType("q8_0"), std::nullopt);
}

}  // namespace
}  // namespace sllm::worker::quant
