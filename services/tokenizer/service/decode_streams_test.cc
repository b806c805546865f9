#include "services/tokenizer/service/decode_streams.h"

#include <map>
#include <string>

#include "grpcpp/support/status.h"
#include "gtest/gtest.h"

namespace sllm::tokenizer {
namespace {

std::unique_ptr<TokenizerCore> LoadCore() {
  auto core = TokenizerCore::Load(
      {{"stories", std::string(SLLM_MODELS_DIR) + "/stories260K"},
       {"llama3", std::string(SLLM_TESTDATA_DIR) + "/tokenizers/llama3"}});
  EXPECT_TRUE(core.ok()) << core.status();
  return std::move(*core);
}

std::vector<uint32_t> Ids(const TokenizerCore& core, const std::string& model,
                          const std::string& text) {
  v1::EncodeRequest enc;
  enc.set_model(model);
  enc.set_text(text);
  enc.set_add_special_tokens(false);
  auto ids = core.Encode(enc);
  EXPECT_TRUE(ids.ok()) << ids.status();
  return {ids->ids().begin(), ids->ids().end()};
}

v1::DecodeStreamsRequest::Step* Start(v1::DecodeStreamsRequest& r, uint64_t sequence,
                                      const std::string& model) {
  v1::DecodeStreamsRequest::Step* step = r.add_steps();
  step->set_sequence(sequence);
  step->mutable_request()->mutable_start()->set_model(model);
  return step;
}

TEST(DecodeStreamsSessionTest, InterleavedSequencesEachJoinToTheirText) {
  auto core = LoadCore();
  DecodeStreamsSession session(*core);
  const std::map<uint64_t, std::pair<std::string, std::string>> texts = {
      {7, {"llama3", "한국어 스트리밍은 깨지지 않는다"}},
      {9, {"stories", "Once upon a time there was a cat."}},
      {11, {"llama3", "naïve café 🙂 done"}}};
  std::map<uint64_t, std::vector<uint32_t>> ids;
  for (const auto& [seq, t] : texts) ids[seq] = Ids(*core, t.first, t.second);
  std::map<uint64_t, std::string> joined;
  // Message k carries each sequence's k-th id; the first opens them, the last finishes them.
  size_t longest = 0;
  for (const auto& [seq, v] : ids) longest = std::max(longest, v.size());
  for (size_t k = 0; k <= longest; ++k) {
    v1::DecodeStreamsRequest r;
    for (const auto& [seq, v] : ids) {
      v1::DecodeStreamsRequest::Step* step =
          k == 0 ? Start(r, seq, texts.at(seq).first) : r.add_steps();
      step->set_sequence(seq);
      if (k < v.size()) step->mutable_request()->add_ids(v[k]);
      if (k == longest) step->mutable_request()->set_finish(true);
    }
    const v1::DecodeStreamsResponse response = session.Handle(r);
    ASSERT_EQ(response.results_size(), 3);
    int i = 0;
    for (const auto& [seq, v] : ids) {
      const auto& result = response.results(i++);
      EXPECT_EQ(result.sequence(), seq);  // In the steps' order.
      ASSERT_EQ(result.error_code(), 0) << result.error_message();
      joined[seq] += result.response().text();
      EXPECT_EQ(result.response().finished(), k == longest);
    }
  }
  for (const auto& [seq, t] : texts) EXPECT_EQ(joined[seq], t.second) << seq;
  EXPECT_EQ(session.open_sequences(), 0u);  // Finishing closes them.
}

TEST(DecodeStreamsSessionTest, AFailedStepClosesItsSequenceOnly) {
  auto core = LoadCore();
  DecodeStreamsSession session(*core);
  v1::DecodeStreamsRequest r;
  Start(r, 1, "stories")->mutable_request()->add_ids(300);
  Start(r, 2, "no-such-model");
  v1::DecodeStreamsRequest::Step* orphan = r.add_steps();  // Never opened.
  orphan->set_sequence(3);
  orphan->mutable_request()->add_ids(5);
  Start(r, 4, "stories")->mutable_request()->add_ids(100000);  // Outside the vocabulary.
  v1::DecodeStreamsResponse response = session.Handle(r);
  ASSERT_EQ(response.results_size(), 4);
  EXPECT_EQ(response.results(0).error_code(), 0);
  EXPECT_FALSE(response.results(0).response().text().empty());
  EXPECT_EQ(response.results(1).error_code(), static_cast<int>(grpc::StatusCode::NOT_FOUND));
  EXPECT_TRUE(response.results(1).error_message().rfind("steps[1]: ", 0) == 0)
      << response.results(1).error_message();
  EXPECT_FALSE(response.results(1).has_response());
  EXPECT_EQ(response.results(2).error_code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(response.results(2).error_message(),
            "steps[2].request.start: sequence 3 is not open: its first step must set start");
  EXPECT_EQ(response.results(3).error_code(),
            static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_NE(response.results(3).error_message().find("100000"), std::string::npos)
      << response.results(3).error_message();
  EXPECT_EQ(session.open_sequences(), 1u);  // Only sequence 1 survived.

  // A second start on an open sequence is refused, and closes it.
  v1::DecodeStreamsRequest again;
  Start(again, 1, "stories");
  response = session.Handle(again);
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).error_message(),
            "steps[0]: start: only the first DecodeStream message may set start");
  EXPECT_EQ(session.open_sequences(), 0u);
}

TEST(DecodeStreamsSessionTest, CancelClosesWithoutAResult) {
  auto core = LoadCore();
  DecodeStreamsSession session(*core);
  v1::DecodeStreamsRequest open;
  Start(open, 5, "stories");
  Start(open, 6, "stories");
  ASSERT_EQ(session.Handle(open).results_size(), 2);
  v1::DecodeStreamsRequest cancel;
  cancel.add_steps()->set_sequence(5);
  cancel.mutable_steps(0)->set_cancel(true);
  cancel.add_steps()->set_sequence(99);  // Not open: ignored.
  cancel.mutable_steps(1)->set_cancel(true);
  cancel.add_steps()->set_sequence(6);
  cancel.mutable_steps(2)->mutable_request()->add_ids(300);
  const v1::DecodeStreamsResponse response = session.Handle(cancel);
  ASSERT_EQ(response.results_size(), 1);
  EXPECT_EQ(response.results(0).sequence(), 6u);
  EXPECT_EQ(session.open_sequences(), 1u);
  // The cancelled id may open a new sequence.
  v1::DecodeStreamsRequest reopen;
  Start(reopen, 5, "llama3");
  EXPECT_EQ(session.Handle(reopen).results(0).error_code(), 0);
  EXPECT_EQ(session.open_sequences(), 2u);
}

TEST(DecodeStreamsSessionTest, RefusesMoreOpenSequencesThanTheLimit) {
  auto core = LoadCore();
  DecodeStreamsSession session(*core);
  v1::DecodeStreamsRequest r;
  for (uint64_t s = 0; s <= DecodeStreamsSession::kMaxOpenSequences; ++s) Start(r, s, "stories");
  const v1::DecodeStreamsResponse response = session.Handle(r);
  const auto& last = response.results(response.results_size() - 1);
  EXPECT_EQ(last.error_code(), static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  EXPECT_EQ(last.error_message(),
            "steps[65536].sequence: this stream already has 65536 open sequences, the most "
            "allowed is 65536");
  EXPECT_EQ(response.results(0).error_code(), 0);
  EXPECT_EQ(session.open_sequences(), DecodeStreamsSession::kMaxOpenSequences);
}

TEST(DecodeStreamsSessionTest, CountsEachStepsIdsForItsModel) {
  auto core = LoadCore();
  DecodeStreamsSession session(*core);
  v1::DecodeStreamsRequest r;
  Start(r, 1, "stories")->mutable_request()->add_ids(300);
  r.mutable_steps(0)->mutable_request()->add_ids(301);
  Start(r, 2, "llama3")->mutable_request()->add_ids(9906);
  std::map<std::string, size_t> counted;
  session.Handle(r, [&](const std::string& model, size_t n) { counted[model] += n; });
  EXPECT_EQ(counted, (std::map<std::string, size_t>{{"llama3", 1}, {"stories", 2}}));
}

}  // namespace
}  // namespace sllm::tokenizer
