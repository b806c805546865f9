#include "services/common/json_nesting.h"

#include <string>

#include "gtest/gtest.h"

namespace sllm {
namespace {

TEST(JsonNestingTest, AcceptsUpToTheLimit) {
  EXPECT_TRUE(CheckJsonNesting(R"({"a": [1, {"b": [[]]}]})", "body", 5).ok());
  EXPECT_FALSE(CheckJsonNesting(R"({"a": [1, {"b": [[]]}]})", "body", 4).ok());
  EXPECT_TRUE(CheckJsonNesting(std::string(64, '[') + std::string(64, ']'), "body").ok());
  EXPECT_TRUE(CheckJsonNesting("not json at all", "body").ok());
}

TEST(JsonNestingTest, RefusesDeeperNestingNamingLevelAndOffset) {
  const absl::Status st =
      CheckJsonNesting(R"({"x": )" + std::string(1000000, '[') + "1", "the request body");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(),
            "the request body nests arrays and objects more than 64 levels deep (level 65 opens "
            "at byte offset 69)");
  EXPECT_FALSE(CheckJsonNesting("[[[[[]]]]]", "tools_json", 4).ok());
}

TEST(JsonNestingTest, BracketsInStringsDoNotCount) {
  const std::string deep_text = "\"" + std::string(100, '[') + "\\\"" + std::string(100, '{') + "\"";
  EXPECT_TRUE(CheckJsonNesting("[" + deep_text + "]", "body", 2).ok());
  // The escaped quote did not end the string; the real one did, and nesting counts again.
  EXPECT_FALSE(CheckJsonNesting("[" + deep_text + ", [[[]]]]", "body", 2).ok());
}

}  // namespace
}  // namespace sllm
