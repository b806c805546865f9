#include "tools/tokenize/tokenize_cli.h"

#include <fstream>
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

TokenizeCliOptions ChatOptions(absl::StatusOr<std::shared_ptr<const tokenizer::jinja::ChatTemplate>> t) {
  TokenizeCliOptions options;
  options.mode = TokenizeMode::kChat;
  options.chat_template = std::move(t);
  options.chat.render.fixed_date = tokenizer::jinja::Date{2024, 7, 26};
  return options;
}

TEST_F(TokenizeCliTest, ChatRendersTheModelsTemplate) {
  TokenizeCliOptions options = ChatOptions(LoadChatTemplate(*model_, ""));
  ASSERT_TRUE(options.chat_template.ok()) << options.chat_template.status();
  // A messages object (extra keys are variables) or a bare messages array.
  EXPECT_EQ(Run(options,
                "{\"messages\": [{\"role\": \"user\", \"content\": \"Hi\"}], \"x\": 1}\n"
                "[{\"role\": \"user\", \"content\": \"a\\\"b\\n\"}]\n"),
            "\"<s>Hi\"\n\"<s>a\\\"b\\n\"\n");
}

TEST_F(TokenizeCliTest, ChatTemplateFileGenerationPromptAndDate) {
  const std::string path = ::testing::TempDir() + "/chat.jinja";
  {
    std::ofstream out(path);
    out << "{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
           "{% if add_generation_prompt %}<assistant>{% endif %}|{{ strftime_now('%d %b %Y') }}|"
           "{{ enable_thinking | default('unset') }}\n";
  }
  TokenizeCliOptions options = ChatOptions(LoadChatTemplate(*model_, path));
  ASSERT_TRUE(options.chat_template.ok()) << options.chat_template.status();
  const std::string line =
      "{\"messages\": [{\"role\": \"user\", \"content\": \"안녕\"}], \"enable_thinking\": false}\n";
  EXPECT_EQ(Run(options, line), "\"<user>안녕<assistant>|26 Jul 2024|false\"\n");
  options.chat.add_generation_prompt = false;
  EXPECT_EQ(Run(options, line), "\"<user>안녕|26 Jul 2024|false\"\n");
  EXPECT_FALSE(LoadChatTemplate(*model_, "/nonexistent/chat.jinja").ok());
}

TEST_F(TokenizeCliTest, ChatErrorsAreLinesAndTheRunGoesOn) {
  TokenizeCliOptions options = ChatOptions(tokenizer::jinja::ChatTemplate::Parse(
      "{% if messages[0].role == 'system' %}\n{{ raise_exception('System role not supported') }}"
      "{% endif %}ok"));
  int errors = 0;
  const std::string out = Run(options,
                              "[{\"role\": \"system\", \"content\": \"s\"}]\n"
                              "{\"messages\": []}\n"
                              "{\"msgs\": 1}\n"
                              "[{\"role\": \"user\", \"content\": \"u\"}]\n",
                              &errors);
  EXPECT_EQ(errors, 2);
  EXPECT_EQ(out,
            "{\"error\":\"template line 2: raise_exception: System role not supported\"}\n"
            "\"ok\"\n"  // messages[0] of [] is undefined, its .role too: no error.
            "{\"error\":\"a conversation must be a messages array or {\\\"messages\\\": [...], ...}\"}\n"
            "\"ok\"\n");
  // A template that does not parse fails every line, naming its line.
  options = ChatOptions(tokenizer::jinja::ChatTemplate::Parse("a\n{% for x in %}"));
  EXPECT_EQ(Run(options, "[]\n[]\n", &errors),
            "{\"error\":\"template line 2: unexpected '%}' in an expression\"}\n"
            "{\"error\":\"template line 2: unexpected '%}' in an expression\"}\n");
}

}  // namespace
}  // namespace sllm::tools
