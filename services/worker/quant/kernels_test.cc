// The internal pieces: the panel order and the activation quantizers of every level.
#include "services/worker/quant/kernels.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "services/worker/quant/panel_layout.h"

namespace sllm::worker::quant::internal {
namespace {

TEST(PanelLayoutTest, OffsetsArePermutationsOfAGroupBlock) {
  std::vector<int> int8(GroupBytes(QuantType::kInt8), 0), int4(2 * GroupBytes(QuantType::kInt4), 0);
  for (int p = 0; p < kPanelRows; ++p) {
    for (int k = 0; k < kGroupSize; ++k) {
      ++int8[Int8Offset(p, k)];
      ++int4[2 * Int4Offset(p, k) + p / 16];  // (byte, nibble)
    }
  }
  for (const int n : int8) EXPECT_EQ(n, 1);
  for (const int n : int4) EXPECT_EQ(n, 1);
  EXPECT_EQ(Int8Offset(1, 0), 4);    // Row 1 is the second 32-bit lane.
  EXPECT_EQ(Int8Offset(16, 0), 64);  // Rows 16..31: the second vector of a quad.
  EXPECT_EQ(Int8Offset(0, 4), 128);  // The next quad.
  EXPECT_EQ(Int4Offset(16, 5), Int4Offset(0, 5));
}

struct QuantizedRow {
  std::vector<int8_t> q;
  std::vector<float> d;
  std::vector<int32_t> sum;
};

QuantizedRow QuantizeWith(CpuLevel level, const std::vector<float>& x) {
  const int64_t cols = static_cast<int64_t>(x.size());
  QuantizedRow out;
  out.q.assign(cols, 99);
  out.d.assign(cols / kGroupSize, 99);
  out.sum.assign(cols / kGroupSize, 99);
  KernelsFor(level).quantize_row(x.data(), cols, out.q.data(), out.d.data(), out.sum.data());
  return out;
}

// Rows with ties (x * 127 / amax exactly k + 0.5), zero groups and odd group counts.
std::vector<float> TestRow(int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> x(cols);
  for (float& v : x) v = normal(rng);
  if (cols >= 64) {
    x[0] = 127.0f;  // Group 0: amax 127, so x * 127 / amax = x exactly.
    for (int k = 1; k < 32; ++k) x[k] = (k - 16) + 0.5f;
    for (int k = 32; k < 64; ++k) x[k] = 0;  // Group 1: all zero.
  }
  return x;
}

TEST(ActivationQuantizationTest, EveryLevelMatchesScalarBitForBit) {
  for (const CpuLevel level : {CpuLevel::kAvx2, CpuLevel::kAvx512Vnni}) {
    if (!CpuSupports(level)) continue;
    for (const int64_t cols : {32, 64, 96, 2048, 5632, 11008}) {
      const std::vector<float> x = TestRow(cols, static_cast<uint32_t>(cols));
      const QuantizedRow want = QuantizeWith(CpuLevel::kScalar, x);
      const QuantizedRow got = QuantizeWith(level, x);
      EXPECT_EQ(got.q, want.q) << CpuLevelName(level) << " cols " << cols;
      EXPECT_EQ(0, std::memcmp(got.d.data(), want.d.data(), want.d.size() * sizeof(float)));
      EXPECT_EQ(got.sum, want.sum) << CpuLevelName(level) << " cols " << cols;
    }
  }
}

TEST(ActivationQuantizationTest, HalfAStepAndTiesToEven) {
  for (const CpuLevel level : {CpuLevel::kScalar, CpuLevel::kAvx2, CpuLevel::kAvx512Vnni}) {
    if (!CpuSupports(level)) continue;
    const int64_t cols = 96;
    const std::vector<float> x = TestRow(cols, 11);
    const QuantizedRow got = QuantizeWith(level, x);
    for (int64_t k = 0; k < cols; ++k) {
      const float d = got.d[k / kGroupSize];
      EXPECT_LE(std::fabs(x[k] - got.q[k] * d), d / 2 * (1 + 1e-6f));
    }
    EXPECT_EQ(got.d[0], 1.0f);
    EXPECT_EQ(got.q[1], -14);   // -14.5 -> -14 (even).
    EXPECT_EQ(got.q[2], -14);   // -13.5 -> -14.
    EXPECT_EQ(got.q[31], 16);   // 15.5 -> 16.
    EXPECT_EQ(got.d[1], 0.0f);  // All-zero group.
    EXPECT_EQ(got.sum[1], 0);
    int total = 0;
    for (int k = 64; k < 96; ++k) total += got.q[k];
    EXPECT_EQ(got.sum[2], total);
  }
}

TEST(ActivationQuantizationTest, NonFiniteGroupsGetANanScale) {
  for (const CpuLevel level : {CpuLevel::kScalar, CpuLevel::kAvx2, CpuLevel::kAvx512Vnni}) {
    if (!CpuSupports(level)) continue;
    std::vector<float> x = TestRow(128, 12);
    x[40] = std::numeric_limits<float>::quiet_NaN();
    x[100] = -std::numeric_limits<float>::infinity();
    const QuantizedRow got = QuantizeWith(level, x);
    EXPECT_TRUE(std::isnan(got.d[1])) << CpuLevelName(level);
    EXPECT_TRUE(std::isnan(got.d[3])) << CpuLevelName(level);
    EXPECT_FALSE(std::isnan(got.d[0]));
    EXPECT_FALSE(std::isnan(got.d[2]));
    EXPECT_EQ(got.sum[1], 0);
  }
}

}  // namespace
}  // namespace sllm::worker::quant::internal
