#include "gateway/core/worker_stream.h"

#include <memory>
#include <vector>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "gateway/core/scripted_backends.h"
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
  ASSERT_TRUE(stream.Next(&m, 64));
  EXPECT_THAT(Ids(m), ElementsAre(1, 2, 3, 4, 5));
  ASSERT_EQ(m.logprobs_size(), 5);
  EXPECT_EQ(m.logprobs(4).token_id(), 5u);
  EXPECT_FLOAT_EQ(m.logprobs(4).logprob(), -2.5f);
  EXPECT_EQ(m.timings().time_to_first_token_us(), 7u);  // The first message's, kept.
  EXPECT_EQ(m.timings().step_us(), 150u);               // 10 + 20 + ... + 50.
  EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(m.stop_token_id(), 5u);
  EXPECT_EQ(m.usage().completion_tokens(), 5u);
  EXPECT_FALSE(stream.Next(&m, 64));
}

TEST_F(WorkerStreamTest, TakesAtMostTheGivenNumberOfMessages) {
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  ASSERT_TRUE(stream.Finish().ok());
  v1::WorkerGenerateResponse m;
  ASSERT_TRUE(stream.Next(&m, 2));
  EXPECT_THAT(Ids(m), ElementsAre(1, 2));
  EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  EXPECT_FALSE(m.has_usage());
  ASSERT_TRUE(stream.Next(&m, 2));
  EXPECT_THAT(Ids(m), ElementsAre(3, 4));
  EXPECT_EQ(m.timings().step_us(), 70u);  // Nothing of the previous batch is left.
  EXPECT_EQ(m.timings().time_to_first_token_us(), 0u);
  ASSERT_TRUE(stream.Next(&m, 2));
  EXPECT_THAT(Ids(m), ElementsAre(5));
  EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_FALSE(stream.Next(&m, 2));
}

TEST_F(WorkerStreamTest, HandsOverWhatHasArrivedWithoutWaitingForMore) {
  worker_.hold_after = 2;
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  v1::WorkerGenerateResponse m;
  std::vector<uint32_t> before;
  while (before.size() < 2) {  // The worker holds after 2: these cannot wait for more.
    ASSERT_TRUE(stream.Next(&m, 64));
    for (uint32_t id : m.token_ids()) before.push_back(id);
    EXPECT_EQ(m.finish_reason(), v1::FINISH_REASON_UNSPECIFIED);
  }
  EXPECT_THAT(before, ElementsAre(1, 2));
  worker_.release.Notify();
  ASSERT_TRUE(stream.Finish().ok());
  ASSERT_TRUE(stream.Next(&m, 64));
  EXPECT_THAT(Ids(m), ElementsAre(3, 4, 5));
  EXPECT_FALSE(stream.Next(&m, 64));
}

TEST_F(WorkerStreamTest, EndsWithTheWorkersStatus) {
  worker_.tokens = 1;
  worker_.end = grpc::Status(grpc::StatusCode::UNAVAILABLE, "shard draining");
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  v1::WorkerGenerateResponse m;
  ASSERT_TRUE(stream.Next(&m, 64));
  EXPECT_THAT(Ids(m), ElementsAre(1));
  EXPECT_FALSE(stream.Next(&m, 64));
  const grpc::Status st = stream.Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(st.error_message(), "shard draining");
}

TEST_F(WorkerStreamTest, DestroyingARunningStreamCancelsTheCall) {
  worker_.until_cancelled = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  grpc::ClientContext ctx;
  {
    WorkerStream stream(*stub_, &ctx, request_);
    v1::WorkerGenerateResponse m;
    ASSERT_TRUE(stream.Next(&m, 1));
    EXPECT_THAT(Ids(m), ElementsAre(1));
  }  // Returns only once gRPC is done with the call.
  EXPECT_TRUE(worker_.handler_returned.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

TEST_F(WorkerStreamTest, AnUnreachableWorkerEndsTheStreamUnavailable) {
  stub_ = v1::WorkerService::NewStub(testing::InsecureChannel("127.0.0.1:1"));
  grpc::ClientContext ctx;
  WorkerStream stream(*stub_, &ctx, request_);
  v1::WorkerGenerateResponse m;
  EXPECT_FALSE(stream.Next(&m, 64));
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace sllm::gateway
