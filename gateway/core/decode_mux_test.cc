#include "gateway/core/decode_mux.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gateway/core/scripted_backends.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"

namespace sllm::gateway {
namespace {

using ::testing::ElementsAre;

// What one step's `done` saw.
struct Answer {
  absl::Notification arrived;
  absl::StatusOr<v1::DecodeStreamResponse> text;
  DecodeMux::Done Done() {
    return [this](absl::StatusOr<v1::DecodeStreamResponse> t) {
      text = std::move(t);
      arrived.Notify();
    };
  }
  bool Wait() { return arrived.WaitForNotificationWithTimeout(absl::Seconds(30)); }
};

v1::DecodeStreamRequest Step(std::vector<uint32_t> ids, bool start = false) {
  v1::DecodeStreamRequest r;
  if (start) r.mutable_start()->set_model("m");
  r.mutable_ids()->Add(ids.begin(), ids.end());
  return r;
}

class DecodeMuxTest : public ::testing::Test {
 protected:
  void Start(const std::string& target = "", absl::Duration idle_close = absl::Hours(1)) {
    runner_ = std::make_unique<ServiceRunner>(testing::LocalServerOptions());
    runner_->AddService(&decoder_);
    ASSERT_TRUE(runner_->Start().ok());
    stub_ = v1::TokenizerService::NewStub(
        testing::InsecureChannel(target.empty() ? runner_->local_target() : target));
    mux_ = std::make_unique<DecodeMux>(*stub_, idle_close);
  }

  // Waits until `n` streams have ended on the decoder's side.
  bool WaitStreamsEnded(int n) {
    absl::MutexLock lock(&decoder_.mu);
    auto ended = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(decoder_.mu) {
      return decoder_.streams_ended >= n;
    };
    return decoder_.mu.AwaitWithTimeout(absl::Condition(&ended), absl::Seconds(30));
  }
  int StreamsEnded() {
    absl::MutexLock lock(&decoder_.mu);
    return decoder_.streams_ended;
  }

  std::vector<int> MessageSteps() {
    absl::MutexLock lock(&decoder_.mu);
    return decoder_.message_steps;
  }

  scripted::ScriptedDecoder decoder_;
  std::unique_ptr<ServiceRunner> runner_;
  std::unique_ptr<v1::TokenizerService::Stub> stub_;
  std::unique_ptr<DecodeMux> mux_;
};

TEST_F(DecodeMuxTest, StepsSentWhileAMessageIsUnansweredGoTogetherInTheNext) {
  decoder_.hold_first = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  auto a = mux_->Open(), b = mux_->Open(), c = mux_->Open();
  Answer first, second, third;
  ASSERT_TRUE(a->Send(Step({1}, true), first.Done()).ok());
  decoder_.first_received.WaitForNotification();
  ASSERT_TRUE(b->Send(Step({2, 3}, true), second.Done()).ok());
  ASSERT_TRUE(c->Send(Step({4}, true), third.Done()).ok());
  decoder_.release_first.Notify();
  ASSERT_TRUE(first.Wait() && second.Wait() && third.Wait());
  EXPECT_EQ(first.text->text(), "<1>");
  EXPECT_EQ(second.text->text(), "<2><3>");
  EXPECT_EQ(third.text->text(), "<4>");
  EXPECT_THAT(MessageSteps(), ElementsAre(1, 2));
  EXPECT_EQ(decoder_.streams.load(), 1);
  // A sequence's next step follows its answer.
  Answer next;
  ASSERT_TRUE(a->Send(Step({5}), next.Done()).ok());
  ASSERT_TRUE(next.Wait());
  EXPECT_EQ(next.text->text(), "<5>");
  EXPECT_EQ(decoder_.bad_starts.load(), 0);
}

TEST_F(DecodeMuxTest, StepsSentInABatchScopeLeaveTogetherWhenItEnds) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto a = mux_->Open(), b = mux_->Open(), c = mux_->Open();
  Answer first, second, third;
  {
    DecodeMux::BatchScope batch;
    ASSERT_TRUE(a->Send(Step({1}, true), first.Done()).ok());
    {
      DecodeMux::BatchScope inner;  // Nested: the outer one sends.
      ASSERT_TRUE(b->Send(Step({2}, true), second.Done()).ok());
    }
    ASSERT_TRUE(c->Send(Step({3}, true), third.Done()).ok());
    EXPECT_TRUE(MessageSteps().empty());  // Held back: nothing has left yet.
  }
  ASSERT_TRUE(first.Wait() && second.Wait() && third.Wait());
  EXPECT_EQ(second.text->text(), "<2>");
  EXPECT_THAT(MessageSteps(), ElementsAre(3));
}

TEST_F(DecodeMuxTest, OneStepInFlightPerSequence) {
  decoder_.hold_first = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  auto a = mux_->Open();
  Answer first, refused;
  ASSERT_TRUE(a->Send(Step({1}, true), first.Done()).ok());
  const absl::Status st = a->Send(Step({2}), refused.Done());
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  decoder_.first_received.WaitForNotification();
  decoder_.release_first.Notify();
  ASSERT_TRUE(first.Wait());
  EXPECT_EQ(first.text->text(), "<1>");
  EXPECT_FALSE(refused.arrived.HasBeenNotified());
}

TEST_F(DecodeMuxTest, ABrokenStreamFailsItsSequencesAndTheNextOpenStartsAnother) {
  decoder_.fail_after = 1;  // Answers one message, then ends the call.
  ASSERT_NO_FATAL_FAILURE(Start());
  auto a = mux_->Open();
  Answer first, second;
  ASSERT_TRUE(a->Send(Step({1}, true), first.Done()).ok());
  ASSERT_TRUE(first.Wait());
  ASSERT_TRUE(first.text.ok());
  ASSERT_TRUE(a->Send(Step({2}), second.Done()).ok());
  ASSERT_TRUE(second.Wait());
  EXPECT_EQ(second.text.status().code(), absl::StatusCode::kUnavailable) << second.text.status();
  // The broken stream refuses further steps at once.
  Answer never;
  EXPECT_EQ(a->Send(Step({3}), never.Done()).code(), absl::StatusCode::kUnavailable);
  // A new sequence gets a new stream.
  auto b = mux_->Open();
  Answer fresh;
  ASSERT_TRUE(b->Send(Step({4}, true), fresh.Done()).ok());
  ASSERT_TRUE(fresh.Wait());
  ASSERT_TRUE(fresh.text.ok()) << fresh.text.status();
  EXPECT_EQ(fresh.text->text(), "<4>");
  EXPECT_EQ(decoder_.streams.load(), 2);
}

TEST_F(DecodeMuxTest, ClosingAnOpenSequenceCancelsItOnTheTokenizer) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto a = mux_->Open(), unused = mux_->Open(), b = mux_->Open();
  Answer first;
  ASSERT_TRUE(a->Send(Step({1}, true), first.Done()).ok());
  ASSERT_TRUE(first.Wait());
  a->Close();
  unused->Close();  // Never sent a step: nothing to cancel there.
  a->Close();       // Idempotent.
  Answer after;
  EXPECT_EQ(a->Send(Step({2}), after.Done()).code(), absl::StatusCode::kFailedPrecondition);
  // b's step goes after the cancel (or with it): once it is answered the cancel has arrived.
  ASSERT_TRUE(b->Send(Step({3}, true), after.Done()).ok());
  ASSERT_TRUE(after.Wait());
  absl::MutexLock lock(&decoder_.mu);
  EXPECT_EQ(decoder_.cancelled.size(), 1u);
}

TEST_F(DecodeMuxTest, NoAnswerRunsAfterClose) {
  decoder_.hold_first = true;
  ASSERT_NO_FATAL_FAILURE(Start());
  auto a = mux_->Open(), b = mux_->Open();
  Answer dropped, later;
  ASSERT_TRUE(a->Send(Step({1}, true), dropped.Done()).ok());
  decoder_.first_received.WaitForNotification();
  a->Close();  // Its answer is on its way.
  decoder_.release_first.Notify();
  ASSERT_TRUE(b->Send(Step({2}, true), later.Done()).ok());
  ASSERT_TRUE(later.Wait());  // Answered after a's step: a's answer was dropped by then.
  EXPECT_FALSE(dropped.arrived.HasBeenNotified());
}

TEST_F(DecodeMuxTest, ADrainingTokenizerKeepsItsSequencesAndGetsNoNewOnes) {
  ASSERT_NO_FATAL_FAILURE(Start());
  auto a = mux_->Open();
  Answer first, second;
  ASSERT_TRUE(a->Send(Step({1}, true), first.Done()).ok());
  ASSERT_TRUE(first.Wait());
  decoder_.draining = true;  // Its next answer says so.
  ASSERT_TRUE(a->Send(Step({2}), second.Done()).ok());
  ASSERT_TRUE(second.Wait());
  // A new sequence goes to a new stream; the draining one still serves `a`.
  auto b = mux_->Open();
  Answer on_new, on_old;
  ASSERT_TRUE(b->Send(Step({3}, true), on_new.Done()).ok());
  ASSERT_TRUE(on_new.Wait());
  ASSERT_TRUE(on_new.text.ok()) << on_new.text.status();
  EXPECT_EQ(decoder_.streams.load(), 2);
  ASSERT_TRUE(a->Send(Step({4}), on_old.Done()).ok());
  ASSERT_TRUE(on_old.Wait());
  ASSERT_TRUE(on_old.text.ok()) << on_old.text.status();
  EXPECT_EQ(on_old.text->text(), "<4>");
  EXPECT_EQ(StreamsEnded(), 0);
  // Its last sequence gone, the old stream is half-closed: the tokenizer's call ends.
  a->Close();
  EXPECT_TRUE(WaitStreamsEnded(1));
  Answer still;
  ASSERT_TRUE(b->Send(Step({5}), still.Done()).ok());
  ASSERT_TRUE(still.Wait());
  EXPECT_EQ(still.text->text(), "<5>");
}

TEST_F(DecodeMuxTest, AStreamLeftWithoutSequencesIsHalfClosed) {
  ASSERT_NO_FATAL_FAILURE(Start("", absl::Milliseconds(20)));
  auto a = mux_->Open();
  Answer first;
  ASSERT_TRUE(a->Send(Step({1}, true), first.Done()).ok());
  ASSERT_TRUE(first.Wait());
  a->Close();
  EXPECT_TRUE(WaitStreamsEnded(1));  // The tokenizer has no call left to wait for.
  auto b = mux_->Open();
  Answer again;
  ASSERT_TRUE(b->Send(Step({2}, true), again.Done()).ok());
  ASSERT_TRUE(again.Wait());
  ASSERT_TRUE(again.text.ok()) << again.text.status();
  EXPECT_EQ(again.text->text(), "<2>");
  EXPECT_EQ(decoder_.streams.load(), 2);
}

TEST_F(DecodeMuxTest, AnUnreachableTokenizerFailsTheStep) {
  ASSERT_NO_FATAL_FAILURE(Start("127.0.0.1:1"));
  auto a = mux_->Open();
  Answer answer;
  const absl::Status sent = a->Send(Step({1}, true), answer.Done());
  if (sent.ok()) {
    ASSERT_TRUE(answer.Wait());
    EXPECT_EQ(answer.text.status().code(), absl::StatusCode::kUnavailable);
  } else {
    EXPECT_EQ(sent.code(), absl::StatusCode::kUnavailable);  // It broke before the send.
  }
}

}  // namespace
}  // namespace sllm::gateway
