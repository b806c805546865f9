#include "services/tokenizer/regex.h"

#include "gtest/gtest.h"

namespace sllm::tokenizer {
namespace {

using Matches = std::vector<std::pair<size_t, size_t>>;

Matches All(std::string_view pattern, std::string_view text) {
  auto re = Regex::Compile(pattern);
  EXPECT_TRUE(re.ok()) << re.status();
  auto m = (*re)->FindAll(text);
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

TEST(RegexTest, TranslatesOnigurumaClasses) {
  EXPECT_EQ(*TranslateOnigPattern(R"(\s+)"), R"([\t\n\x0B\f\r\x{85}\p{Z}]+)");
  EXPECT_EQ(*TranslateOnigPattern(R"([^\s\p{L}])"), R"([^\t\n\x0B\f\r\x{85}\p{Z}\p{L}])");
  EXPECT_EQ(*TranslateOnigPattern(R"(\S)"), R"([^\t\n\x0B\f\r\x{85}\p{Z}])");
  EXPECT_EQ(*TranslateOnigPattern(R"([\]\s])"), R"([\]\t\n\x0B\f\r\x{85}\p{Z}])");
  EXPECT_FALSE(TranslateOnigPattern(R"([\S])").ok());
}

TEST(RegexTest, SpaceMatchesNextLineLikeOniguruma) {
  EXPECT_EQ(All(R"(\s)", "a\xC2\x85" "b"), (Matches{{1, 3}}));
  EXPECT_EQ(All(R"(\w+)", "e\xCC\x81t\xC3\xA9"), (Matches{{0, 6}}));  // Marks are word chars.
}

TEST(RegexTest, Llama3PatternSplitsLikeTokenizers) {
  const char* kLlama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  EXPECT_EQ(All(kLlama3, "Hello world's 12345  x"),
            (Matches{{0, 5}, {5, 11}, {11, 13}, {13, 14}, {14, 17}, {17, 19}, {19, 20}, {20, 22}}));
}

TEST(RegexTest, EmptyMatchesAdvance) {
  EXPECT_EQ(All("x*", "ab"), (Matches{{0, 0}, {1, 1}, {2, 2}}));
}

TEST(RegexTest, InvalidPatternNamesOffset) {
  auto re = Regex::Compile("(unclosed");
  ASSERT_FALSE(re.ok());
  EXPECT_NE(re.status().message().find("(unclosed"), std::string_view::npos);
}

}  // namespace
}  // namespace sllm::tokenizer
