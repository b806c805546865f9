#include "gateway/core/pipeline.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gateway/core/scripted_backends.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"

namespace sllm::gateway {
namespace {

// A pipeline over a scripted worker (model "m") and a scripted tokenizer that has DecodeStreams
// but no Encode, all on one local server.
class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_ = std::make_unique<ServiceRunner>(testing::LocalServerOptions());
    runner_->AddService(&worker_);
    runner_->AddService(&decoder_);
    ASSERT_TRUE(runner_->Start().ok());
    pool_ = std::make_unique<ShardPool>(std::vector<std::string>{runner_->local_target()});
    pool_->Start();  // Knows model "m" from here on.
    pipeline_ = std::make_unique<Pipeline>(testing::InsecureChannel(runner_->local_target()),
                                           *pool_, GatewayLimits{});
  }

  // Three prompt ids, five tokens.
  static PipelineRequest IdsRequest() {
    PipelineRequest r;
    r.request_id = "r";
    r.model = "m";
    r.kind = PipelineRequest::Kind::kIds;
    r.ids = {1, 2, 3};
    r.params.set_max_tokens(5);
    return r;
  }

  scripted::ScriptedWorker worker_;
  scripted::ScriptedDecoder decoder_;
  std::unique_ptr<ServiceRunner> runner_;
  std::unique_ptr<ShardPool> pool_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, StartReturnsWhileTheRequestRunsAndDoneComesLastOnAnotherThread) {
  worker_.hold_after = 1;  // The worker waits after its first token.
  const PipelineRequest request = IdsRequest();
  CallControl call;
  absl::Mutex mu;
  std::string text;
  int chunks = 0, dones = 0;
  v1::FinishReason finish = v1::FINISH_REASON_UNSPECIFIED;
  absl::Status result;
  std::thread::id done_thread;
  absl::Notification first, over;
  pipeline_->Start(
      request, call,
      [&](const v1::GenerateStreamResponse& chunk) {
        absl::MutexLock lock(&mu);
        text += chunk.text();
        if (chunk.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) finish = chunk.finish_reason();
        if (++chunks == 1) first.Notify();
        return true;
      },
      [&](absl::Status st) {
        absl::MutexLock lock(&mu);
        result = std::move(st);
        done_thread = std::this_thread::get_id();
        ++dones;
        over.Notify();
      });
  first.WaitForNotification();
  {
    absl::MutexLock lock(&mu);
    EXPECT_EQ(text, "<1>");
    EXPECT_EQ(dones, 0);  // Start returned; the request runs on.
  }
  worker_.release.Notify();
  over.WaitForNotification();
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_EQ(text, "<1><2><3><4><5>.");
  EXPECT_EQ(finish, v1::FINISH_REASON_STOP);
  EXPECT_EQ(dones, 1);
  EXPECT_NE(done_thread, std::this_thread::get_id());
}

TEST_F(PipelineTest, ARefusedRequestIsDoneBeforeStartReturns) {
  PipelineRequest request = IdsRequest();
  request.model = "nope";
  CallControl call;
  bool done = false;
  absl::Status result;
  pipeline_->Start(
      request, call, [](const v1::GenerateStreamResponse&) { return true; },
      [&](absl::Status st) {
        result = std::move(st);
        done = true;
      });
  EXPECT_TRUE(done);
  EXPECT_TRUE(absl::IsNotFound(result)) << result;
  EXPECT_THAT(std::string(result.message()), ::testing::HasSubstr("served models: m"));
  EXPECT_EQ(worker_.returned, 0);
}

TEST_F(PipelineTest, AFailedEncodeEndsTheRequestBeforeAnyWorkerCall) {
  PipelineRequest request = IdsRequest();
  request.kind = PipelineRequest::Kind::kText;
  request.text = "hello";
  CallControl call;
  int chunks = 0;
  const absl::Status st = pipeline_->Run(request, call, [&](const v1::GenerateStreamResponse&) {
    ++chunks;
    return true;
  });
  // The scripted tokenizer has no Encode.
  EXPECT_TRUE(absl::IsUnimplemented(st)) << st;
  EXPECT_EQ(chunks, 0);
  EXPECT_EQ(worker_.returned, 0);
}

TEST_F(PipelineTest, ACancelledRequestEndsCancelledWithoutWaitingForTheWorker) {
  worker_.until_cancelled = true;  // Streams until the gateway cancels it.
  const PipelineRequest request = IdsRequest();
  CallControl call;
  absl::Notification first, over;
  absl::Status result;
  pipeline_->Start(
      request, call,
      [&](const v1::GenerateStreamResponse&) {
        if (!first.HasBeenNotified()) first.Notify();
        return true;
      },
      [&](absl::Status st) {
        result = std::move(st);
        over.Notify();
      });
  first.WaitForNotification();
  call.Cancel();
  over.WaitForNotification();
  EXPECT_TRUE(absl::IsCancelled(result)) << result;
}

}  // namespace
}  // namespace sllm::gateway
