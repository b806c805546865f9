#include "services/worker/quant/fp16.h"

#include <immintrin.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "gtest/gtest.h"

namespace sllm::worker::quant {
namespace {

TEST(Fp16Test, KnownValues) {
  EXPECT_EQ(HalfToFloat(0x3c00), 1.0f);
  EXPECT_EQ(HalfToFloat(0xc000), -2.0f);
  EXPECT_EQ(HalfToFloat(0x7bff), 65504.0f);
  EXPECT_EQ(HalfToFloat(0x0400), 0x1p-14f);  // Smallest normal.
  EXPECT_EQ(HalfToFloat(0x0001), 0x1p-24f);  // Smallest subnormal.
  EXPECT_EQ(HalfToFloat(0x8000), 0.0f);
  EXPECT_TRUE(std::signbit(HalfToFloat(0x8000)));
  EXPECT_EQ(HalfToFloat(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(HalfToFloat(0x7e00)));
  EXPECT_EQ(Bf16ToFloat(0x3f80), 1.0f);
  EXPECT_EQ(Bf16ToFloat(0xc040), -3.0f);
}

TEST(Fp16Test, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
}

TEST(Fp16Test, RoundsToNearestEven) {
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f), 0x3c00);      // Tie: down to even.
  EXPECT_EQ(FloatToHalf(1.0f + 3 * 0x1p-11f), 0x3c02);  // Tie: up to even.
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
  EXPECT_EQ(FloatToHalf(65519.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);  // Rounds past the largest finite value.
  EXPECT_EQ(FloatToHalf(0x1p-25f), 0x0000);  // Tie between 0 and the smallest subnormal.
  EXPECT_EQ(FloatToHalf(0x1p-25f * 1.5f), 0x0001);
  EXPECT_EQ(FloatToHalf(-1e9f), 0xfc00);
}

// Against the F16C instruction, where the CPU has it.
__attribute__((target("f16c"))) uint16_t HardwareFloatToHalf(float f) {
  return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT));
}

TEST(Fp16Test, MatchesF16c) {
  if (!__builtin_cpu_supports("f16c")) GTEST_SKIP() << "no F16C";
  std::mt19937 rng(7);
  for (int n = 0; n < 1000000; ++n) {
    const float f = std::bit_cast<float>(static_cast<uint32_t>(rng()));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), HardwareFloatToHalf(f)) << f;
  }
}

TEST(Fp16Test, RoundUpGivesTheSmallestHalfNotBelow) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> exponent(-30, 16);
  for (int n = 0; n < 100000; ++n) {
    const float f = std::exp2(exponent(rng)) * 1.2345f;
    const uint16_t h = FloatToHalfRoundUp(f);
    ASSERT_GE(HalfToFloat(h), f);
    if (h > 0) {
      ASSERT_LT(HalfToFloat(h - 1), f);
    }
  }
  EXPECT_EQ(FloatToHalfRoundUp(0.0f), 0);
  EXPECT_EQ(FloatToHalfRoundUp(1e-30f), 0x0001);
  EXPECT_EQ(FloatToHalfRoundUp(65504.5f), 0x7c00);
}

}  // namespace
}  // namespace sllm::worker::quant
