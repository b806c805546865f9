#include "gateway/core/call_control.h"

#include "gtest/gtest.h"

namespace sllm::gateway {
namespace {

TEST(CallControlTest, CancelRunsTheInterruptOnceAndCancelsTheCalls) {
  CallControl call;
  grpc::ClientContext* ctx = call.NewContext();
  int interrupted = 0;
  call.SetInterrupt([&] { ++interrupted; });
  EXPECT_EQ(interrupted, 0);
  call.Cancel();
  call.Cancel();  // Idempotent.
  EXPECT_EQ(interrupted, 1);
  EXPECT_TRUE(call.cancelled());
  EXPECT_EQ(call.Interruption().code(), absl::StatusCode::kCancelled);
  (void)ctx;
}

TEST(CallControlTest, AnInterruptSetAfterCancelRunsAtOnce) {
  CallControl call;
  call.Cancel();
  int interrupted = 0;
  call.SetInterrupt([&] { ++interrupted; });
  EXPECT_EQ(interrupted, 1);
}

TEST(CallControlTest, AClearedInterruptDoesNotRun) {
  CallControl call;
  int interrupted = 0;
  call.SetInterrupt([&] { ++interrupted; });
  call.SetInterrupt(nullptr);
  call.Cancel();
  EXPECT_EQ(interrupted, 0);
}

TEST(CallControlTest, APassedDeadlineIsTheInterruption) {
  CallControl call(absl::Now() - absl::Seconds(1));
  EXPECT_EQ(call.Interruption().code(), absl::StatusCode::kDeadlineExceeded);
  // gRPC cancels a call whose deadline passed, and the front passes that on: still the deadline.
  call.Cancel();
  EXPECT_EQ(call.Interruption().code(), absl::StatusCode::kDeadlineExceeded);
  CallControl open;
  EXPECT_TRUE(open.Interruption().ok());
}

}  // namespace
}  // namespace sllm::gateway
