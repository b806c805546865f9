#include "gateway/core/relay.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gateway/core/scripted_backends.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"

namespace sllm::gateway {
namespace {

using ::testing::ElementsAre;

class RelayTest : public ::testing::Test {
 protected:
  void Start() {
    runner_ = std::make_unique<ServiceRunner>(testing::LocalServerOptions());
    runner_->AddService(&worker_);
    runner_->AddService(&decoder_);
    ASSERT_TRUE(runner_->Start().ok());
    auto channel = testing::InsecureChannel(runner_->local_target());
    worker_stub_ = v1::WorkerService::NewStub(channel);
    tokenizer_stub_ = v1::TokenizerService::NewStub(channel);
    decoder_mux_ = std::make_unique<DecodeMux>(*tokenizer_stub_);
    start_.set_model("m");
  }

  // Runs a relay to its end; `stop_after` batches, the handler says stop.
  Relay::Outcome RunRelay(size_t max_batch, int stop_after = -1) {
    grpc::ClientContext worker_ctx;
    Relay relay(Relay::GenerateCall(*worker_stub_, &worker_ctx, request_), *decoder_mux_, start_,
                max_batch,
                [&](const v1::WorkerGenerateResponse& batch, const std::string& text) {
                  std::vector<uint32_t> ids(batch.token_ids().begin(), batch.token_ids().end());
                  batches_.push_back(ids);
                  texts_.push_back(text);
                  if (batch.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
                    finish_ = batch.finish_reason();
                  }
                  return static_cast<int>(batches_.size()) != stop_after;
                });
    return relay.Wait();
  }

  // A relay taking one message per batch, whose handler records the batches.
  std::unique_ptr<Relay> RecordingRelay(grpc::ClientContext* worker_ctx) {
    return std::make_unique<Relay>(
        Relay::GenerateCall(*worker_stub_, worker_ctx, request_), *decoder_mux_, start_, 1,
        [this](const v1::WorkerGenerateResponse& batch, const std::string&) {
          batches_.emplace_back(batch.token_ids().begin(), batch.token_ids().end());
          return true;
        });
  }

  std::vector<uint32_t> AllIds() const {
    std::vector<uint32_t> all;
    for (const auto& b : batches_) all.insert(all.end(), b.begin(), b.end());
    return all;
  }
  std::string AllText() const {
    std::string all;
    for (const auto& t : texts_) all += t;
    return all;
  }

  scripted::ScriptedWorker worker_;
  scripted::ScriptedDecoder decoder_;
  std::unique_ptr<ServiceRunner> runner_;
  std::unique_ptr<v1::WorkerService::Stub> worker_stub_;
  std::unique_ptr<v1::TokenizerService::Stub> tokenizer_stub_;
  std::unique_ptr<DecodeMux> decoder_mux_;  // After the stub: destroyed before it.
  v1::WorkerGenerateRequest request_;
  v1::DecodeStreamStart start_;
  // What the handler saw (it runs one call at a time; read after Wait).
  std::vector<std::vector<uint32_t>> batches_;
  std::vector<std::string> texts_;
  v1::FinishReason finish_ = v1::FINISH_REASON_UNSPECIFIED;
};

TEST_F(RelayTest, RelaysEveryTokenInOrderWithItsText) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const Relay::Outcome outcome = RunRelay(64);
  EXPECT_TRUE(outcome.worker.ok()) << outcome.worker.error_message();
  EXPECT_TRUE(outcome.decode.ok()) << outcome.decode;
  EXPECT_THAT(AllIds(), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(AllText(), "<1><2><3><4><5>.");  // The finish message flushed (".").
  EXPECT_EQ(finish_, v1::FINISH_REASON_STOP);
  // One decode step per batch; the start went with the first only.
  EXPECT_EQ(decoder_.requests.load(), static_cast<int>(batches_.size()));
  {
    absl::MutexLock lock(&decoder_.mu);
    EXPECT_EQ(decoder_.model, "m");
  }
  EXPECT_EQ(decoder_.bad_starts.load(), 0);
}

TEST_F(RelayTest, TakesOneMessagePerBatchWhenAsked) {
  ASSERT_NO_FATAL_FAILURE(Start());
  const Relay::Outcome outcome = RunRelay(1);
  EXPECT_TRUE(outcome.worker.ok());
  ASSERT_EQ(batches_.size(), 5u);
  for (size_t i = 0; i < batches_.size(); ++i) {
    EXPECT_THAT(batches_[i], ElementsAre(i + 1));
    EXPECT_EQ(texts_[i], absl::StrCat("<", i + 1, ">", i == 4 ? "." : ""));
  }
}

TEST_F(RelayTest, AHandlerThatStopsCancelsTheWorker) {
  worker_.until_cancelled = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  const Relay::Outcome outcome = RunRelay(1, /*stop_after=*/3);
  EXPECT_EQ(outcome.worker.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(outcome.decode.ok());
  EXPECT_EQ(batches_.size(), 3u);  // Nothing after the handler said stop.
  EXPECT_TRUE(worker_.handler_returned.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_F(RelayTest, ABrokenDecodeStreamStopsTheRelayAndTheWorker) {
  worker_.until_cancelled = true;
  decoder_.fail_after = 2;
  ASSERT_NO_FATAL_FAILURE(Start());
  const Relay::Outcome outcome = RunRelay(1);
  EXPECT_EQ(outcome.decode.code(), absl::StatusCode::kUnavailable) << outcome.decode;
  EXPECT_EQ(batches_.size(), 2u);
  EXPECT_EQ(outcome.worker.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(worker_.handler_returned.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_F(RelayTest, CancellingTheCallsStopsARelayWaitingForTheWorker) {
  worker_.hold_after = 1;  // Sends one token, then waits until the end of the test.
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext worker_ctx;
  Relay relay(Relay::GenerateCall(*worker_stub_, &worker_ctx, request_), *decoder_mux_, start_, 64,
              [&](const v1::WorkerGenerateResponse& batch, const std::string&) {
                batches_.emplace_back(batch.token_ids().begin(), batch.token_ids().end());
                worker_ctx.TryCancel();  // What CallControl::Cancel does when the client goes.
                return true;
              });
  const Relay::Outcome outcome = relay.Wait();
  EXPECT_EQ(outcome.worker.error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_THAT(batches_, ElementsAre(ElementsAre(1)));
  worker_.release.Notify();
}

TEST_F(RelayTest, DestroyingARelayThatWasNotWaitedForCancelsBothCalls) {
  worker_.until_cancelled = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  {
    grpc::ClientContext worker_ctx;
    absl::Notification first;
    Relay relay(Relay::GenerateCall(*worker_stub_, &worker_ctx, request_), *decoder_mux_, start_, 1,
                [&](const v1::WorkerGenerateResponse&, const std::string&) {
                  if (!first.HasBeenNotified()) first.Notify();
                  return true;
                });
    first.WaitForNotification();
  }  // Returns only once gRPC is done with both calls.
  EXPECT_TRUE(worker_.handler_returned.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_F(RelayTest, EndsWithTheWorkersErrorAfterItsTokens) {
  worker_.tokens = 2;
  worker_.end = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shard draining");
  ASSERT_NO_FATAL_FAILURE(Start());
  const Relay::Outcome outcome = RunRelay(1);
  EXPECT_EQ(outcome.worker.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(outcome.worker.error_message(), "shard draining");
  EXPECT_TRUE(outcome.decode.ok());
  EXPECT_THAT(AllIds(), ElementsAre(1, 2));
  EXPECT_EQ(finish_, v1::FINISH_REASON_UNSPECIFIED);
}

TEST_F(RelayTest, AnUnreachableWorkerEndsTheRelayWithoutABatch) {
  ASSERT_NO_FATAL_FAILURE(Start());
  worker_stub_ = v1::WorkerService::NewStub(testing::InsecureChannel("127.0.0.1:1"));
  const Relay::Outcome outcome = RunRelay(64);
  EXPECT_EQ(outcome.worker.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(outcome.decode.ok());
  EXPECT_TRUE(batches_.empty());
}

TEST_F(RelayTest, ACancelledRequestDoesNotWaitForItsText) {
  worker_.until_cancelled = true;
  decoder_.hold_first = true;  // The first batch's text never comes back in time.
  ASSERT_NO_FATAL_FAILURE(Start());
  {
    grpc::ClientContext worker_ctx;
    auto relay = RecordingRelay(&worker_ctx);
    decoder_.first_received.WaitForNotification();
    worker_ctx.TryCancel();  // The client went away, or the deadline passed.
    const Relay::Outcome outcome = relay->Wait();
    EXPECT_EQ(outcome.worker.error_code(), grpc::StatusCode::CANCELLED);
    EXPECT_TRUE(outcome.decode.ok());
    EXPECT_TRUE(batches_.empty());
  }
  decoder_.release_first.Notify();
}

// The worker call is over and only text is on its way (held by the decoder): what the
// worker's cancellation cannot reach any more.
TEST_F(RelayTest, AnInterruptStopsARelayWhoseWorkerIsDone) {
  decoder_.hold_first = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  {
    grpc::ClientContext worker_ctx;
    auto relay = RecordingRelay(&worker_ctx);
    decoder_.first_received.WaitForNotification();
    ASSERT_TRUE(worker_.handler_returned.WaitForNotificationWithTimeout(absl::Seconds(30)));
    relay->Interrupt();  // The client went away.
    const Relay::Outcome outcome = relay->Wait();
    // Wait cancels the call; its OK status may or may not have reached the client first.
    EXPECT_TRUE(outcome.worker.ok() ||
                outcome.worker.error_code() == grpc::StatusCode::CANCELLED)
        << outcome.worker.error_message();
    EXPECT_TRUE(outcome.decode.ok());
    EXPECT_TRUE(batches_.empty());
  }
  decoder_.release_first.Notify();
}

TEST_F(RelayTest, WaitStopsAtTheDeadline) {
  decoder_.hold_first = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  {
    grpc::ClientContext worker_ctx;
    auto relay = RecordingRelay(&worker_ctx);
    decoder_.first_received.WaitForNotification();
    const Relay::Outcome outcome = relay->Wait(absl::Now() + absl::Milliseconds(20));
    EXPECT_TRUE(outcome.decode.ok());
    EXPECT_TRUE(batches_.empty());  // The held text never reached the handler.
  }
  decoder_.release_first.Notify();
}

TEST_F(RelayTest, ConcurrentRelaysShareOneDecodeStream) {
  ASSERT_NO_FATAL_FAILURE(Start());
  constexpr int kRelays = 8;
  std::vector<std::string> texts(kRelays);
  std::vector<grpc::Status> statuses(kRelays);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRelays; ++i) {
    threads.emplace_back([&, i] {
      grpc::ClientContext worker_ctx;
      Relay relay(Relay::GenerateCall(*worker_stub_, &worker_ctx, request_), *decoder_mux_,
                  start_, 1, [&](const v1::WorkerGenerateResponse&, const std::string& text) {
                    texts[i] += text;
                    return true;
                  });
      statuses[i] = relay.Wait().worker;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < kRelays; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_message();
    EXPECT_EQ(texts[i], "<1><2><3><4><5>.") << i;
  }
  EXPECT_EQ(decoder_.streams.load(), 1);
  EXPECT_EQ(decoder_.requests.load(), kRelays * 5);
  EXPECT_EQ(decoder_.bad_starts.load(), 0);
}

}  // namespace
}  // namespace sllm::gateway
