#include "services/tokenizer/tokenizer.h"

#include "gtest/gtest.h"
#include "services/tokenizer/model_tokenizer.h"

namespace sllm::tokenizer {
namespace {

std::string TokenizerPath(const std::string& name) {
  return std::string(SLLM_TESTDATA_DIR) + "/tokenizers/" + name + "/tokenizer.json";
}

std::unique_ptr<Tokenizer> Load(const std::string& path) {
  auto t = Tokenizer::FromFile(path);
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

std::vector<uint32_t> Encode(const Tokenizer& t, std::string_view text, bool special = true) {
  auto e = t.Encode(text, {.add_special_tokens = special});
  EXPECT_TRUE(e.ok()) << e.status();
  return e->ids;
}

TEST(TokenizerTest, Stories260kMatchesLlama2cPromptIds) {
  auto m = ModelTokenizer::Load("stories260K", std::string(SLLM_MODELS_DIR) + "/stories260K");
  ASSERT_TRUE(m.ok()) << m.status();
  const Tokenizer& t = (*m)->tokenizer();
  // llama2.c's run.c encodes these prompts to BOS + these ids.
  EXPECT_EQ(Encode(t, "Once upon a time"), (std::vector<uint32_t>{1, 403, 407, 261, 378}));
  EXPECT_EQ(*t.Decode({1, 403, 407, 261, 378}, true), "Once upon a time");
  EXPECT_EQ((*m)->config().eos_token_ids, (std::vector<uint32_t>{1, 2}));
  ASSERT_TRUE((*m)->config().bos.has_value());
  EXPECT_EQ((*m)->config().bos->id, 1u);
  EXPECT_TRUE((*m)->config().chat_template.has_value());
}

TEST(TokenizerTest, Llama3SpecialTokensAndOffsets) {
  auto t = Load(TokenizerPath("llama3"));
  // Reference ids and offsets from HF tokenizers (offsets here in bytes).
  auto e = t->Encode("Hello 안녕 <|begin_of_text|>x", {.return_offsets = true});
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->ids, (std::vector<uint32_t>{9906, 96270, 116024, 220, 128000, 87}));
  EXPECT_EQ(e->offsets,
            (std::vector<Range>{{0, 5}, {5, 9}, {9, 12}, {12, 13}, {13, 30}, {30, 31}}));
  EXPECT_EQ(*t->Decode(e->ids, false), "Hello 안녕 <|begin_of_text|>x");
  EXPECT_EQ(*t->Decode(e->ids, true), "Hello 안녕 x");
}

TEST(TokenizerTest, MistralPrependAndStripDecoder) {
  auto t = Load(TokenizerPath("mistral-spm"));
  EXPECT_EQ(Encode(*t, "<s> Hello  world"),
            (std::vector<uint32_t>{1, 1, 28705, 22557, 28705, 1526}));
  EXPECT_EQ(*t->Decode({1, 1, 28705, 22557, 28705, 1526}, false), "<s><s>  Hello  world");
  EXPECT_EQ(*t->Decode({1, 1, 28705, 22557, 28705, 1526}, true), " Hello  world");
}

TEST(TokenizerTest, GemmaNonSpecialAddedTokensStayOnSkip) {
  auto t = Load(TokenizerPath("gemma3"));
  const std::vector<uint32_t> ids = {2, 4, 26352, 138, 6, 236781, 17031, 239888};
  EXPECT_EQ(Encode(*t, "<mask> Hello  <unused0>x 안녕"), ids);
  EXPECT_EQ(*t->Decode(ids, true), "<mask> Hello  <unused0>x 안녕");
}

TEST(TokenizerTest, DeepseekSpecialTokenPassesByteLevelDecoderVerbatim) {
  auto t = Load(TokenizerPath("deepseek_v3"));
  EXPECT_EQ(Encode(*t, "<｜begin▁of▁sentence｜>Hi ü"), (std::vector<uint32_t>{0, 23166, 10943}));
  EXPECT_EQ(*t->Decode({0, 23166, 10943}, false), "<｜begin▁of▁sentence｜>Hi ü");
}

TEST(TokenizerTest, OutOfVocabularyIdIsNamed) {
  auto t = Load(TokenizerPath("mistral-spm"));
  auto d = t->Decode({1, 999999}, false);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(d.status().message(), "token id 999999 is outside the vocabulary (size 32000)");
}

// Found by tests/fuzz/tokenizer_fuzz: a truncated UTF-8 sequence sent the Prepend normalizer's
// offset tracking past the end of its alignment table. Encode now refuses text that is not
// valid UTF-8 instead of trusting every caller to have checked.
TEST(TokenizerTest, InvalidUtf8IsAnErrorNotAnOverread) {
  auto m = ModelTokenizer::Load("stories260K", std::string(SLLM_MODELS_DIR) + "/stories260K");
  ASSERT_TRUE(m.ok()) << m.status();
  for (bool offsets : {false, true}) {
    for (std::string_view text : {std::string_view("\xF0\x00", 2), std::string_view("ab\xE3\x81"),
                                  std::string_view("\xC3")}) {
      auto e = (*m)->tokenizer().Encode(text, {.return_offsets = offsets});
      ASSERT_FALSE(e.ok()) << text;
      EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(e.status().message().find("text is not valid UTF-8"), std::string_view::npos)
          << e.status();
    }
  }
}

TEST(TokenizerTest, UnsupportedComponentsFailByName) {
  auto t = Tokenizer::FromJson(R"({"model": {"type": "Unigram", "vocab": []}})");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("Unigram"), std::string_view::npos);
  t = Tokenizer::FromJson(R"({"model": {"type": "BPE", "vocab": {}, "merges": []},
                              "normalizer": {"type": "Precompiled"}})");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("Precompiled"), std::string_view::npos);
  EXPECT_FALSE(Tokenizer::FromJson("{not json").ok());
}

}  // namespace
}  // namespace sllm::tokenizer
