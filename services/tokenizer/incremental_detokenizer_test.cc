#include "services/tokenizer/incremental_detokenizer.h"

#include "gtest/gtest.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

std::unique_ptr<Tokenizer> Load(const std::string& name) {
  auto t = Tokenizer::FromFile(std::string(SLLM_TESTDATA_DIR) + "/tokenizers/" + name +
                               "/tokenizer.json");
  EXPECT_TRUE(t.ok()) << t.status();
  return std::move(*t);
}

// Streams `ids` one by one; checks every delta is valid UTF-8; returns the deltas.
std::vector<std::string> Stream(const Tokenizer& t, const std::vector<uint32_t>& ids, bool skip) {
  IncrementalDetokenizer d(t, skip);
  std::vector<std::string> deltas;
  for (uint32_t id : ids) {
    auto delta = d.Add(id);
    EXPECT_TRUE(delta.ok()) << delta.status();
    EXPECT_EQ(FindInvalidUtf8(*delta), std::nullopt);
    deltas.push_back(*delta);
  }
  deltas.push_back(d.Finish());
  return deltas;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += x;
  return s;
}

TEST(IncrementalDetokenizerTest, KoreanByteLevelNeverSplitsCharacters) {
  auto t = Load("llama3");
  const std::string text = "안녕하세요, 세계! 한국어 텍스트는 중간에 깨지지 않습니다. 😀👩‍👩‍👧";
  auto ids = t->Encode(text, {.add_special_tokens = false})->ids;
  const auto deltas = Stream(*t, ids, false);
  EXPECT_EQ(Join(deltas), *t->Decode(ids, false));
  EXPECT_EQ(Join(deltas), text);
}

TEST(IncrementalDetokenizerTest, ByteFallbackRunsAreHeldUntilClosed) {
  auto t = Load("mistral-spm");
  // "▁", then the three bytes of '안', then "▁Hello".
  const uint32_t b1 = *t->TokenToId("<0xEC>"), b2 = *t->TokenToId("<0x95>"),
                 b3 = *t->TokenToId("<0x88>");
  const std::vector<uint32_t> ids = {1, 28705, b1, b2, b3, 22557};
  const auto deltas = Stream(*t, ids, true);
  EXPECT_EQ(deltas[2], "");  // The run is open: nothing yet.
  EXPECT_EQ(deltas[3], "");
  EXPECT_EQ(deltas[4], "");
  EXPECT_EQ(Join(deltas), *t->Decode(ids, true));
}

TEST(IncrementalDetokenizerTest, ALongByteRunIsHeldWholeAndJoinsExactly) {
  auto t = Load("mistral-spm");
  // 3,000 '안' as byte tokens (9,000 in one run), then "▁Hello". The text before the run is
  // decoded once for the run, not once per byte.
  const uint32_t b1 = *t->TokenToId("<0xEC>"), b2 = *t->TokenToId("<0x95>"),
                 b3 = *t->TokenToId("<0x88>");
  std::vector<uint32_t> ids = {1, 22557, 28705};
  for (int i = 0; i < 3000; ++i) ids.insert(ids.end(), {b1, b2, b3});
  ids.push_back(22557);
  const auto deltas = Stream(*t, ids, true);
  for (size_t i = 3; i < 3 + 9000; ++i) ASSERT_EQ(deltas[i], "") << i;
  EXPECT_EQ(Join(deltas), *t->Decode(ids, true));
  std::string run;
  for (int i = 0; i < 3000; ++i) run += "\xEC\x95\x88";
  EXPECT_NE(Join(deltas).find(run), std::string::npos);
}

TEST(IncrementalDetokenizerTest, InvalidByteRunMatchesWholeDecode) {
  auto t = Load("mistral-spm");
  // 'A' as a byte token followed by a lone lead byte: HF turns the whole run into U+FFFD x2.
  const std::vector<uint32_t> ids = {*t->TokenToId("<0x41>"), *t->TokenToId("<0xEC>")};
  const auto deltas = Stream(*t, ids, false);
  EXPECT_EQ(Join(deltas), *t->Decode(ids, false));
  EXPECT_EQ(Join(deltas), "\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(IncrementalDetokenizerTest, LeadingSpaceRulesMatchWholeDecode) {
  auto t = Load("mistral-spm");
  for (bool skip : {false, true}) {
    const std::vector<uint32_t> ids = {1, 28705, 22557, 28705, 1526};
    EXPECT_EQ(Join(Stream(*t, ids, skip)), *t->Decode(ids, skip)) << skip;
  }
}

TEST(IncrementalDetokenizerTest, RejectsOutOfVocabularyIds) {
  auto t = Load("llama3");
  IncrementalDetokenizer d(*t, false);
  EXPECT_EQ(d.Add(500000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*d.Add(9906), "Hello");
}

}  // namespace
}  // namespace sllm::tokenizer
