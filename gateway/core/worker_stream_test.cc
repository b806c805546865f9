#include "gateway/core/worker_stream.h"

#include <atomic>
#include <memory>
#include <vector>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gateway/core/scripted_backends.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"

namespace sllm::gateway {
namespace {

using ::testing::ElementsAre;

class WorkerStreamTest : public ::testing::Test {
 protected:
  void Start() {
    runner_ = std::make_unique<ServiceRunner>(testing::LocalServerOptions());
    runner_->AddService(&worker_);
    ASSERT_TRUE(runner_->Start().ok());
    stub_ = v1::WorkerService::NewStub(testing::InsecureChannel(runner_->local_target()));
  }
  std::vector<uint32_t> Ids(const v1::WorkerGenerateResponse& m) {
    return {m.token_ids().begin(), m.token_ids().end()};
  }

  scripted::ScriptedWorker worker_;
  std::unique_ptr<ServiceRunner> runner_;
  std::unique_ptr<v1::WorkerService::Stub> stub_;
  v1::WorkerGenerateRequest request_;
};

TEST_F(WorkerStreamTest, MergesEveryMessageThatHasArrived) {
  request_.mutable_logprobs()->set_enabled(true);
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  ASSERT_TRUE(stream.Finish().ok());  // Every message has arrived by now.
  v1::WorkerGenerateResponse m;
  ASSERT_EQ(stream.Take(&m, 64), WorkerStream::Took::kBatch);
  EXPECT_THAT(Ids(m), ElementsAre(1, 2, 3, 4, 5));
  ASSERT_EQ(m.logprobs_size(), 5);
  EXPECT_EQ(m.logprobs(4).token_id(), 5u);
  EXPECT_FLOAT_EQ(m.logprobs(4).logprob(), -2.5f);
  EXPECT_EQ(m.timings().time_to_first_token_us(), 7u);  // The first message's, kept.
  EXPECT_EQ(m.timings().step_us(), 150u);               // 10 + 20 + ... + 50.
  EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(m.stop_token_id(), 5u);
  EXPECT_EQ(m.usage().completion_tokens(), 5u);
  EXPECT_EQ(stream.Take(&m, 64), WorkerStream::Took::kEnded);
}

TEST_F(WorkerStreamTest, TakesAtMostTheGivenNumberOfMessages) {
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  ASSERT_TRUE(stream.Finish().ok());
  v1::WorkerGenerateResponse m;
  ASSERT_EQ(stream.Take(&m, 2), WorkerStream::Took::kBatch);
  EXPECT_THAT(Ids(m), ElementsAre(1, 2));
  EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  EXPECT_FALSE(m.has_usage());
  ASSERT_EQ(stream.Take(&m, 2), WorkerStream::Took::kBatch);
  EXPECT_THAT(Ids(m), ElementsAre(3, 4));
  EXPECT_EQ(m.timings().step_us(), 70u);  // Nothing of the previous batch is left.
  EXPECT_EQ(m.timings().time_to_first_token_us(), 0u);
  ASSERT_EQ(stream.Take(&m, 2), WorkerStream::Took::kBatch);
  EXPECT_THAT(Ids(m), ElementsAre(5));
  EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(stream.Take(&m, 2), WorkerStream::Took::kEnded);
}

TEST_F(WorkerStreamTest, HandsOverWhatHasArrivedWithoutWaitingForMore) {
  worker_.hold_after = 2;
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  std::atomic<int> arrivals{0};
  absl::Notification two_arrived;
  WorkerStream stream(*stub_, &ctx, request_, [&] {
    if (++arrivals == 2) two_arrived.Notify();
  });
  two_arrived.WaitForNotification();  // The worker holds after 2.
  v1::WorkerGenerateResponse m;
  ASSERT_EQ(stream.Take(&m, 64), WorkerStream::Took::kBatch);
  EXPECT_THAT(Ids(m), ElementsAre(1, 2));
  EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  EXPECT_EQ(stream.Take(&m, 64), WorkerStream::Took::kWaiting);  // Nothing more, no wait.
  worker_.release.Notify();
  ASSERT_TRUE(stream.Finish().ok());
  ASSERT_EQ(stream.Take(&m, 64), WorkerStream::Took::kBatch);
  EXPECT_THAT(Ids(m), ElementsAre(3, 4, 5));
  EXPECT_EQ(stream.Take(&m, 64), WorkerStream::Took::kEnded);
}

TEST_F(WorkerStreamTest, EndsWithTheWorkersStatus) {
  worker_.tokens = 1;
  worker_.end = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shard draining");
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  const grpc::Status st = stream.Finish();
  v1::WorkerGenerateResponse m;
  ASSERT_EQ(stream.Take(&m, 64), WorkerStream::Took::kBatch);
  EXPECT_THAT(Ids(m), ElementsAre(1));
  EXPECT_EQ(stream.Take(&m, 64), WorkerStream::Took::kEnded);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "shard draining");
}

TEST_F(WorkerStreamTest, DestroyingARunningStreamCancelsTheCall) {
  worker_.until_cancelled = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  {
    absl::Notification arrived;
    WorkerStream stream(*stub_, &ctx, request_, [&] {
      if (!arrived.HasBeenNotified()) arrived.Notify();
    });
    arrived.WaitForNotification();
    v1::WorkerGenerateResponse m;
    ASSERT_EQ(stream.Take(&m, 1), WorkerStream::Took::kBatch);
    EXPECT_THAT(Ids(m), ElementsAre(1));
  }  // Returns only once gRPC is done with the call.
  EXPECT_TRUE(worker_.handler_returned.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_F(WorkerStreamTest, AnUnreachableWorkerEndsTheStreamUnavailable) {
  stub_ = v1::WorkerService::NewStub(testing::InsecureChannel("127.0.0.1:1"));
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
  v1::WorkerGenerateResponse m;
  EXPECT_EQ(stream.Take(&m, 64), WorkerStream::Took::kEnded);
}

}  // namespace
}  // namespace sllm::gateway
