#include "services/tokenizer/jinja/lexer.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sllm::tokenizer::jinja {
namespace {

using ::testing::HasSubstr;

std::string Pre(absl::string_view s) { return Preprocess(s).text; }

TEST(PreprocessTest, DropsOneTrailingNewline) {
  EXPECT_EQ(Pre("a\n\n"), "a\n");
  EXPECT_EQ(Pre("a"), "a");
}

TEST(PreprocessTest, LstripBlocksAndTrimBlocks) {
  // Indentation before {% and {# goes; the newline after %} and #} goes; {{ is untouched.
  EXPECT_EQ(Pre("  {% if x %}\n  {{ y }}\n\t{# c #}\nz"), "{% if x %}  {{ y }}\n{# c #}z");
  // Only at the start of a line (also after \r).
  EXPECT_EQ(Pre("a  {% x %}"), "a  {% x %}");
  EXPECT_EQ(Pre("a\r  {% x %}"), "a\r{% x %}");
  // trim_blocks applies to the text as a whole, also inside what later becomes text.
  EXPECT_EQ(Pre("50%}\nx"), "50%}x");
}

TEST(PreprocessTest, RemovesGenerationTags) {
  EXPECT_EQ(Pre("a {% generation %} b {% endgeneration %} c"), "a  b  c");
  EXPECT_EQ(Pre("a \n{%- generation -%}\n b"), "ab");
}

TEST(PreprocessTest, MapsOutputBytesToSourceOffsets) {
  const Preprocessed p = Preprocess("  {% x %}\nab");
  ASSERT_EQ(p.text, "{% x %}ab");
  EXPECT_EQ(p.origin[0], 2u);
  EXPECT_EQ(p.origin[7], 10u);  // 'a' after the removed newline.
}

std::vector<TokenType> Types(absl::string_view src) {
  auto tokens = Tokenize(src);
  EXPECT_TRUE(tokens.ok()) << tokens.status();
  std::vector<TokenType> types;
  for (const Token& t : *tokens) types.push_back(t.type);
  return types;
}

TEST(TokenizeTest, TextAndTags) {
  using T = TokenType;
  EXPECT_EQ(Types("hi {{ name }}!"),
            (std::vector<T>{T::kText, T::kOpenExpression, T::kIdentifier, T::kCloseExpression,
                            T::kText}));
  EXPECT_EQ(Types("{% if a == -1 %}{% endif %}"),
            (std::vector<T>{T::kOpenStatement, T::kIdentifier, T::kIdentifier,
                            T::kComparisonOperator, T::kNumericLiteral, T::kCloseStatement,
                            T::kOpenStatement, T::kIdentifier, T::kCloseStatement}));
  // `a - 1` is binary; `(-x)` is a unary operator; `}}` inside a dict literal closes braces.
  EXPECT_EQ(Types("{{ a - 1 }}")[2], T::kAdditiveOperator);
  EXPECT_EQ(Types("{{ (-x) }}")[2], T::kUnaryOperator);
  EXPECT_EQ(Types("{{ {'a': {'b': 1}} }}").back(), T::kCloseExpression);
}

TEST(TokenizeTest, WhitespaceControlStripsText) {
  auto tokens = Tokenize("a  \n {{- x -}}  \n b");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ((*tokens)[0].value, "a");
  EXPECT_EQ(tokens->back().value, "b");
}

TEST(TokenizeTest, StringEscapes) {
  auto tokens = Tokenize(R"({{ "a\n\t\"\\\x41\u00e9\ud83d\ude00" 'b' }})");
  ASSERT_TRUE(tokens.ok()) << tokens.status();
  EXPECT_EQ((*tokens)[1].value, "a\n\t\"\\Aé😀");
  EXPECT_EQ((*tokens)[2].value, "b");
}

TEST(TokenizeTest, LinesCountTheOriginalSource) {
  auto tokens = Tokenize("{% if x %}\n  {% for y in z %}\n{{ y }}");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(tokens->front().line, 1);
  EXPECT_EQ(tokens->back().line, 3);
}

TEST(TokenizeTest, ErrorsNameTheLine) {
  auto st = Tokenize("line 1\n{{ 'unterminated }}\n").status();
  EXPECT_THAT(st.message(), HasSubstr("template line 2: unexpected end of input"));
  st = Tokenize("a\nb\n{{ x ! y }}").status();
  EXPECT_EQ(st.message(), "template line 3: unexpected character '!'");
  st = Tokenize("{{ '\\q' }}").status();
  EXPECT_THAT(st.message(), HasSubstr("template line 1: unexpected escaped character 'q'"));
  st = Tokenize("x\n{# never closed").status();
  EXPECT_THAT(st.message(), HasSubstr("template line 2: missing end of comment"));
}

}  // namespace
}  // namespace sllm::tokenizer::jinja
