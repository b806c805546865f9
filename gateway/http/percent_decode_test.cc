#include "gateway/http/percent_decode.h"

#include "gtest/gtest.h"

namespace sllm::http {
namespace {

TEST(PercentDecodeTest, DecodesEscapesAndKeepsTheRest) {
  EXPECT_EQ(PercentDecode("meta-llama%2FLlama-3.2-3B-Instruct"), "meta-llama/Llama-3.2-3B-Instruct");
  EXPECT_EQ(PercentDecode("a%2fb%20c"), "a/b c");
  EXPECT_EQ(PercentDecode("%EB%B8%94%EB%A1%9C%EC%8D%B8"), "\xEB\xB8\x94\xEB\xA1\x9C\xEC\x8D\xB8");
  EXPECT_EQ(PercentDecode("stories260K"), "stories260K");
  EXPECT_EQ(PercentDecode("a+b"), "a+b");
}

TEST(PercentDecodeTest, LeavesMalformedEscapesAlone) {
  EXPECT_EQ(PercentDecode("100%"), "100%");
  EXPECT_EQ(PercentDecode("%2"), "%2");
  EXPECT_EQ(PercentDecode("%zz%4"), "%zz%4");
  EXPECT_EQ(PercentDecode("%%41"), "%A");
}

}  // namespace
}  // namespace sllm::http
