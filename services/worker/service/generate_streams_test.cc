// GenerateStreams over a real channel on port 0, with the bundled stories260K model.
#include "services/worker/service/generate_streams.h"

#include <map>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/worker/service/worker_service_fixture.h"

namespace sllm::worker {
namespace {

using Stream = grpc::ClientReaderWriter<v1::WorkerStreamsRequest, v1::WorkerStreamsResponse>;

// What one sequence received.
struct Received {
  std::vector<uint32_t> ids;
  v1::WorkerGenerateResponse last;  // With finish_reason once it has finished.
  int32_t error_code = 0;
  std::string error_message;
  bool ended() const {
    return error_code != 0 || last.finish_reason() != v1::FINISH_REASON_UNSPECIFIED;
  }
};

class GenerateStreamsTest : public WorkerServiceTest {
 protected:
  static v1::WorkerStreamsRequest Starts(
      const std::vector<std::pair<uint64_t, v1::WorkerGenerateRequest>>& starts) {
    v1::WorkerStreamsRequest msg;
    for (const auto& [sequence, request] : starts) {
      v1::WorkerStreamsRequest::Start* s = msg.add_starts();
      s->set_sequence(sequence);
      *s->mutable_request() = request;
    }
    return msg;
  }

  // Reads one message into `got`; false when the stream has ended.
  static bool ReadOne(Stream& stream, std::map<uint64_t, Received>& got,
                      v1::WorkerStreamsResponse* msg = nullptr) {
    v1::WorkerStreamsResponse m;
    if (!stream.Read(&m)) return false;
    for (const auto& u : m.updates()) {
      Received& r = got[u.sequence()];
      EXPECT_FALSE(r.ended()) << "an update after sequence " << u.sequence() << " ended";
      r.ids.insert(r.ids.end(), u.response().token_ids().begin(),
                   u.response().token_ids().end());
      if (u.response().finish_reason() != v1::FINISH_REASON_UNSPECIFIED) r.last = u.response();
      if (u.error_code() != 0) {
        r.error_code = u.error_code();
        r.error_message = u.error_message();
      }
    }
    if (msg != nullptr) *msg = std::move(m);
    return true;
  }

  // Reads until every sequence in `sequences` has ended; returns the messages read.
  static int ReadUntilEnded(Stream& stream, std::map<uint64_t, Received>& got,
                            const std::vector<uint64_t>& sequences) {
    int messages = 0;
    const auto all_ended = [&] {
      for (uint64_t s : sequences) {
        if (!got[s].ended()) return false;
      }
      return true;
    };
    while (!all_ended()) {
      if (!ReadOne(stream, got)) {
        ADD_FAILURE() << "the stream ended before its sequences";
        break;
      }
      ++messages;
    }
    return messages;
  }
};

TEST_F(GenerateStreamsTest, ManySequencesGetGeneratesTokensInOneMessagePerStep) {
  const std::vector<std::vector<uint32_t>> prompts = {{1, 403, 407}, {1, 261, 378, 9}, {1, 88}};
  std::map<uint64_t, std::vector<uint32_t>> expected;
  for (size_t i = 0; i < prompts.size(); ++i) {
    v1::WorkerGenerateResponse last;
    ASSERT_TRUE(Generate(Request(prompts[i], 40), expected[i + 7], last).ok());
  }
  grpc::ClientContext ctx;
  auto stream = stub_->GenerateStreams(&ctx);
  ASSERT_TRUE(stream->Write(Starts({{7, Request(prompts[0], 40)},
                                    {8, Request(prompts[1], 40)},
                                    {9, Request(prompts[2], 40)}})));
  std::map<uint64_t, Received> got;
  const int messages = ReadUntilEnded(*stream, got, {7, 8, 9});
  for (uint64_t s : {7, 8, 9}) {
    EXPECT_EQ(got[s].ids, expected[s]) << "sequence " << s;
    EXPECT_EQ(got[s].last.finish_reason(), v1::FINISH_REASON_LENGTH);
    EXPECT_EQ(got[s].last.usage().completion_tokens(), 40u);
  }
  // One message per engine step carries every sequence's token (about 41 steps for 120
  // tokens; a message per token would be 120).
  EXPECT_LT(messages, 60);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GenerateStreamsTest, ABadStartEndsOnlyItsSequenceWithANamedError) {
  grpc::ClientContext ctx;
  auto stream = stub_->GenerateStreams(&ctx);
  v1::WorkerGenerateRequest unknown = Request({1, 2}, 5);
  unknown.set_model("nope");
  v1::WorkerGenerateRequest out_of_vocab = Request({1, 99999}, 5);
  v1::WorkerGenerateRequest empty = Request({}, 5);
  ASSERT_TRUE(stream->Write(Starts({{1, unknown},
                                    {2, out_of_vocab},
                                    {3, Request({1, 403}, 12)},
                                    {4, empty}})));
  std::map<uint64_t, Received> got;
  ReadUntilEnded(*stream, got, {1, 2, 3, 4});
  EXPECT_EQ(got[1].error_code, grpc::StatusCode::NOT_FOUND);
  EXPECT_NE(got[1].error_message.find("'nope'"), std::string::npos) << got[1].error_message;
  EXPECT_EQ(got[2].error_code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(got[2].error_message.find("prompt_ids[1]"), std::string::npos)
      << got[2].error_message;
  EXPECT_NE(got[2].error_message.find("99999"), std::string::npos) << got[2].error_message;
  EXPECT_EQ(got[4].error_code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(got[3].error_code, 0);
  EXPECT_EQ(got[3].ids.size(), 12u);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GenerateStreamsTest, ACancelledSequenceStopsAndTheOthersGoOn) {
  grpc::ClientContext ctx;
  auto stream = stub_->GenerateStreams(&ctx);
  ASSERT_TRUE(stream->Write(Starts({{1, Request({1, 403, 407}, 400)}, {2, Request({1, 9}, 60)}})));
  std::map<uint64_t, Received> got;
  while (got[1].ids.size() < 3) ASSERT_TRUE(ReadOne(*stream, got));
  v1::WorkerStreamsRequest cancel;
  cancel.add_cancels(1);
  cancel.add_cancels(12345);  // Not open: ignored.
  ASSERT_TRUE(stream->Write(cancel));
  ReadUntilEnded(*stream, got, {2});
  EXPECT_EQ(got[2].ids.size(), 60u);
  // The half-close ends the call: the cancelled sequence is not waited for.
  stream->WritesDone();
  while (ReadOne(*stream, got)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_FALSE(got[1].ended());
  EXPECT_LT(got[1].ids.size(), 400u);
  EXPECT_EQ(LoadWhenIdle().total().running(), 0u);
}

TEST_F(GenerateStreamsTest, AHalfCloseWithNothingOpenEndsTheCall) {
  grpc::ClientContext ctx;
  auto stream = stub_->GenerateStreams(&ctx);
  stream->WritesDone();
  v1::WorkerStreamsResponse msg;
  EXPECT_FALSE(stream->Read(&msg));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GenerateStreamsTest, ADrainingShardFinishesOpenSequencesAndRefusesNewOnes) {
  grpc::ClientContext ctx;
  auto stream = stub_->GenerateStreams(&ctx);
  ASSERT_TRUE(stream->Write(Starts({{1, Request({1, 403, 407}, 100)}})));
  std::map<uint64_t, Received> got;
  ASSERT_TRUE(ReadOne(*stream, got));
  service_->Drain();
  v1::WorkerStreamsResponse msg;
  do {
    ASSERT_TRUE(ReadOne(*stream, got, &msg));
  } while (!msg.draining());
  ASSERT_TRUE(stream->Write(Starts({{2, Request({1, 9}, 5)}})));
  ReadUntilEnded(*stream, got, {1, 2});
  EXPECT_EQ(got[1].ids.size(), 100u);
  EXPECT_EQ(got[1].last.finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_EQ(got[2].error_code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(got[2].error_message.find("shutting down"), std::string::npos);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());

  // A call opened while draining is told at once.
  grpc::ClientContext late_ctx;
  auto late = stub_->GenerateStreams(&late_ctx);
  ASSERT_TRUE(late->Read(&msg));
  EXPECT_TRUE(msg.draining());
  late->WritesDone();
  EXPECT_TRUE(late->Finish().ok());
}

TEST_F(GenerateStreamsTest, TheShardAdvertisesIt) {
  grpc::ClientContext ctx;
  v1::GetWorkerInfoResponse info;
  ASSERT_TRUE(stub_->GetInfo(&ctx, {}, &info).ok());
  EXPECT_TRUE(info.generate_streams());
}

}  // namespace
}  // namespace sllm::worker
