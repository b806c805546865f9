#include "bench/load/prompts.h"

#include <cstdio>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sllm::loadgen {
namespace {

using ::testing::HasSubstr;

const std::string kStories = std::string(SLLM_MODELS_DIR) + "/stories260K";

std::unique_ptr<tokenizer::Tokenizer> Stories() {
  auto tok = tokenizer::Tokenizer::FromFile(kStories + "/tokenizer.json");
  EXPECT_TRUE(tok.ok()) << tok.status();
  return tok.ok() ? std::move(*tok) : nullptr;
}

std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(MakePromptsTest, SyntheticIdsAreSeededAndBelowTheVocabulary) {
  PromptSource s;
  s.prompt_len = {8, 32};
  s.output_len = {4, 6};
  s.vocab_size = 100;
  s.seed = 3;
  auto a = MakePrompts(s, 50), b = MakePrompts(s, 50);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_EQ(a->size(), 50u);
  for (size_t i = 0; i < a->size(); ++i) {
    const Prompt& p = (*a)[i];
    EXPECT_EQ(p.ids, (*b)[i].ids);
    EXPECT_EQ(p.output_len, (*b)[i].output_len);
    EXPECT_FALSE(p.has_text);
    EXPECT_GE(p.ids.size(), 8u);
    EXPECT_LE(p.ids.size(), 32u);
    EXPECT_GE(p.output_len, 4);
    EXPECT_LE(p.output_len, 6);
    for (uint32_t id : p.ids) EXPECT_LT(id, 100u);
  }
  s.seed = 4;
  auto c = MakePrompts(s, 50);
  ASSERT_TRUE(c.ok());
  EXPECT_NE((*a)[0].ids, (*c)[0].ids);
}

TEST(MakePromptsTest, SyntheticIdsNeedAVocabularySize) {
  PromptSource s;
  auto p = MakePrompts(s, 1);
  ASSERT_FALSE(p.ok());
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("--vocab-size"));
}

TEST(MakePromptsTest, SyntheticTextEncodesToExactlyTheDrawnLength) {
  auto tok = Stories();
  ASSERT_NE(tok, nullptr);
  for (const LengthSpec len : {LengthSpec{1, 1}, LengthSpec{2, 2}, LengthSpec{7, 7},
                               LengthSpec{64, 64}, LengthSpec{300, 300}, LengthSpec{5, 200}}) {
    PromptSource s;
    s.tokenizer = tok.get();
    s.prompt_len = len;
    s.seed = 11;
    auto prompts = MakePrompts(s, 10);
    ASSERT_TRUE(prompts.ok()) << prompts.status();
    auto again = MakePrompts(s, 10);
    for (size_t i = 0; i < prompts->size(); ++i) {
      const Prompt& p = (*prompts)[i];
      SCOPED_TRACE(p.text);
      ASSERT_TRUE(p.has_text);
      EXPECT_EQ(p.text, (*again)[i].text) << "seeded";
      auto enc = tok->Encode(p.text, {});
      ASSERT_TRUE(enc.ok());
      EXPECT_EQ(enc->ids, p.ids);
      EXPECT_GE(static_cast<int64_t>(p.ids.size()), len.min);
      EXPECT_LE(static_cast<int64_t>(p.ids.size()), len.max);
      if (len.fixed()) {
        EXPECT_EQ(static_cast<int64_t>(p.ids.size()), len.min);
      }
      EXPECT_EQ(p.ids.front(), 1u) << "BOS";
    }
  }
}

TEST(ReadPromptsFileTest, TextAndIdLinesWithOwnOutputLengths) {
  const std::string path = WriteFile(
      "prompts.jsonl",
      "{\"prompt\": \"Once upon a time\"}\n\n{\"prompt_ids\": [1, 5, 9], \"output_len\": 7}\n");
  auto tok = Stories();
  auto with_ids = ReadPromptsFile(path, tok.get());
  ASSERT_TRUE(with_ids.ok()) << with_ids.status();
  ASSERT_EQ(with_ids->size(), 2u);
  EXPECT_EQ((*with_ids)[0].text, "Once upon a time");
  EXPECT_TRUE((*with_ids)[0].has_text);
  EXPECT_EQ((*with_ids)[0].ids, tok->Encode("Once upon a time", {})->ids);
  EXPECT_EQ((*with_ids)[0].output_len, 0) << "from --output-len";
  EXPECT_EQ((*with_ids)[1].ids, (std::vector<uint32_t>{1, 5, 9}));
  EXPECT_EQ((*with_ids)[1].output_len, 7);

  auto text_only = ReadPromptsFile(path, nullptr);
  ASSERT_TRUE(text_only.ok());
  EXPECT_TRUE((*text_only)[0].ids.empty());

  PromptSource s;
  s.file = path;
  s.output_len = {3, 3};
  auto made = MakePrompts(s, 100);
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->size(), 2u) << "every line once; the runner cycles them";
  EXPECT_EQ((*made)[0].output_len, 3);
  EXPECT_EQ((*made)[1].output_len, 7);
}

TEST(ReadPromptsFileTest, BadLinesNameFileAndLine) {
  auto err = [](const std::string& body) {
    auto p = ReadPromptsFile(WriteFile("bad.jsonl", body), nullptr);
    EXPECT_FALSE(p.ok());
    return std::string(p.status().message());
  };
  EXPECT_THAT(err("{\"prompt\": \"a\"}\nnot json\n"), HasSubstr("line 2: not a JSON object"));
  EXPECT_THAT(err("{\"text\": \"a\"}\n"), HasSubstr("line 1: needs \"prompt\""));
  EXPECT_THAT(err("{\"prompt_ids\": [1, -2]}\n"), HasSubstr("got -2"));
  EXPECT_THAT(err("{\"prompt\": \"a\", \"output_len\": 0}\n"), HasSubstr("output_len"));
  EXPECT_THAT(err("\n\n"), HasSubstr("has no prompts"));
  auto missing = ReadPromptsFile("/nonexistent/p.jsonl", nullptr);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("/nonexistent/p.jsonl"));
}

}  // namespace
}  // namespace sllm::loadgen
