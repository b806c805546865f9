#include "services/tokenizer/unicode.h"

#include "gtest/gtest.h"

namespace sllm::tokenizer {
namespace {

TEST(Utf8Test, LossyMatchesRustReplacementRules) {
  EXPECT_EQ(Utf8Lossy("a\xE1\x80" "b"), "a\xEF\xBF\xBD" "b");  // One U+FFFD per maximal prefix.
  EXPECT_EQ(Utf8Lossy("\xF0\x90\x80"), "\xEF\xBF\xBD");
  EXPECT_EQ(Utf8Lossy("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(Utf8Lossy("한국"), "한국");
}

TEST(UnicodeTest, CharacterClasses) {
  EXPECT_TRUE(IsWhitespace(0x85));
  EXPECT_TRUE(IsWhitespace(0x3000));
  EXPECT_FALSE(IsWhitespace(0x180E));
  EXPECT_TRUE(IsWordChar(0x0301));  // Combining acute accent.
  EXPECT_TRUE(IsWordChar(U'한'));
  EXPECT_FALSE(IsWordChar(U'-'));
  EXPECT_TRUE(IsPunctuation(U'$'));  // ASCII punctuation includes symbols.
  EXPECT_TRUE(IsPunctuation(0x3002));
  EXPECT_TRUE(IsNumeric(0x2163));    // Roman numeral four (Nl).
}

TEST(UnicodeTest, LowercaseIsFullAndContextFree) {
  EXPECT_EQ(ToLowerFull(U'A'), U"a");
  EXPECT_EQ(ToLowerFull(0x130), std::u32string({U'i', 0x307}));
  EXPECT_EQ(ToLowerFull(0x3A3), std::u32string(1, 0x3C3));  // Σ -> σ, never final ς.
}

TEST(UnicodeTest, NormalizationForms) {
  EXPECT_EQ(Normalize("e\xCC\x81", NormalizationForm::kNfc), "\xC3\xA9");
  EXPECT_EQ(Normalize("\xEA\xB0\x80", NormalizationForm::kNfd), "\xE1\x84\x80\xE1\x85\xA1");
  EXPECT_EQ(Normalize("\xEF\xAC\x81", NormalizationForm::kNfkc), "fi");
  EXPECT_TRUE(IsNormalized("plain ascii", NormalizationForm::kNfc));
}

}  // namespace
}  // namespace sllm::tokenizer
