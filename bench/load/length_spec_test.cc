#include "bench/load/length_spec.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sllm::loadgen {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(LengthSpecTest, ParsesFixedAndRange) {
  auto fixed = ParseLengthSpec("--prompt-len", "64", 4096);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->min, 64);
  EXPECT_EQ(fixed->max, 64);
  EXPECT_TRUE(fixed->fixed());
  EXPECT_EQ(fixed->ToString(), "64");

  auto range = ParseLengthSpec("--prompt-len", "32:128", 4096);
  ASSERT_TRUE(range.ok()) << range.status();
  EXPECT_EQ(range->min, 32);
  EXPECT_EQ(range->max, 128);
  EXPECT_FALSE(range->fixed());
  EXPECT_EQ(range->ToString(), "32:128");

  auto same = ParseLengthSpec("--output-len", "7:7", 10);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->fixed());
}

// Every error names the flag, the bound broken and the value given.
TEST(LengthSpecTest, BadValuesNameFlagLimitAndValue) {
  auto msg = [](const std::string& value, int64_t limit = 4096) {
    auto s = ParseLengthSpec("--output-len", value, limit);
    EXPECT_FALSE(s.ok()) << value;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(s.status().message());
  };
  EXPECT_THAT(msg("0"), AllOf(HasSubstr("--output-len"), HasSubstr("at least 1"),
                              HasSubstr("got 0")));
  EXPECT_THAT(msg("-5"), AllOf(HasSubstr("--output-len"), HasSubstr("at least 1"),
                               HasSubstr("-5")));
  EXPECT_THAT(msg("5000"), AllOf(HasSubstr("--output-len"), HasSubstr("at most 4096"),
                                 HasSubstr("got 5000")));
  EXPECT_THAT(msg("1:5000"), AllOf(HasSubstr("at most 4096"), HasSubstr("'1:5000'")));
  EXPECT_THAT(msg("128:32"), AllOf(HasSubstr("--output-len"), HasSubstr("MIN <= MAX"),
                                   HasSubstr("'128:32'")));
  EXPECT_THAT(msg("abc"), AllOf(HasSubstr("--output-len"), HasSubstr("whole numbers"),
                                HasSubstr("'abc'")));
  EXPECT_THAT(msg("1.5"), HasSubstr("'1.5'"));
  EXPECT_THAT(msg(""), HasSubstr("''"));
  EXPECT_THAT(msg("1:2:3"), AllOf(HasSubstr("MIN:MAX"), HasSubstr("'1:2:3'")));
  EXPECT_THAT(msg("4:"), HasSubstr("'4:'"));
}

TEST(LengthSpecTest, SamplesWithinRangeDeterministically) {
  const LengthSpec spec{32, 128};
  std::mt19937_64 a(7), b(7);
  bool saw_min = false, saw_max = false;
  for (int i = 0; i < 5000; ++i) {
    const int64_t x = spec.Sample(a);
    ASSERT_EQ(x, spec.Sample(b));
    ASSERT_GE(x, 32);
    ASSERT_LE(x, 128);
    saw_min |= x == 32;
    saw_max |= x == 128;
  }
  EXPECT_TRUE(saw_min && saw_max) << "both ends are included";
  std::mt19937_64 rng(1);
  EXPECT_EQ((LengthSpec{5, 5}).Sample(rng), 5);
}

}  // namespace
}  // namespace sllm::loadgen
