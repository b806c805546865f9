#include "tools/tokenize/tokenize_cli.h"

#include <sstream>

#include "gtest/gtest.h"

namespace sllm::tools {
namespace {

class TokenizeCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = tokenizer::ModelTokenizer::Load("stories260K",
                                             std::string(SLLM_MODELS_DIR) + "/stories260K");
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = m->release();
  }
  static void TearDownTestSuite() { delete model_; }

  std::string Run(const TokenizeCliOptions& options, const std::string& input, int* errors = nullptr) {
    std::istringstream in(input);
    std::ostringstream out;
    const int e = RunTokenizeCli(*model_, options, in, out);
    if (errors != nullptr) *errors = e;
    return out.str();
  }
  static tokenizer::ModelTokenizer* model_;
};
tokenizer::ModelTokenizer* TokenizeCliTest::model_ = nullptr;

TEST_F(TokenizeCliTest, EncodesWithAndWithoutSpecialTokens) {
  EXPECT_EQ(Run({}, "\"Once upon a time\"\n\n"), "[1,403,407,261,378]\n");
  EXPECT_EQ(Run({.add_special_tokens = false}, "\"Once upon a time\"\n"), "[403,407,261,378]\n");
}

TEST_F(TokenizeCliTest, DecodesAndStreams) {
  EXPECT_EQ(Run({.mode = TokenizeMode::kDecode}, "[1,403,407]\n"), "\"<s> Once upon\"\n");  // As HF: Strip sees "<s>" first.
  EXPECT_EQ(Run({.mode = TokenizeMode::kDecode, .skip_special_tokens = true}, "[1,403,407]\n"),
            "\"Once upon\"\n");
  EXPECT_EQ(Run({.mode = TokenizeMode::kStream, .skip_special_tokens = true}, "[1,403,407]\n"),
            "[\"\",\"Once\",\" upon\",\"\"]\n");
}

TEST_F(TokenizeCliTest, BadLinesReportErrorsAndTheRunGoesOn) {
  int errors = 0;
  const std::string out = Run({}, "not json\n\"ok\"\n\"\xff\"\n42\n", &errors);
  EXPECT_EQ(errors, 3);
  EXPECT_EQ(out,
            "{\"error\":\"input line is not valid JSON\"}\n[1,334,433]\n"
            "{\"error\":\"input line is not valid UTF-8: invalid byte 0xff at byte offset 1\"}\n"
            "{\"error\":\"expected a JSON string\"}\n");
  EXPECT_EQ(Run({.mode = TokenizeMode::kDecode}, "[1, 99999]\n", &errors),
            "{\"error\":\"token id 99999 is outside the vocabulary (size 512)\"}\n");
}

}  // namespace
}  // namespace sllm::tools
