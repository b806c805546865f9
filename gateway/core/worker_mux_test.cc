#include "gateway/core/worker_mux.h"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"

namespace sllm::gateway {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

// A worker whose GenerateStreams calls the test drives: it records what each call receives,
// and sends what the test posts; the test can end a call with a status.
class ScriptedStreamsWorker final : public v1::WorkerService::Service {
 public:
  struct Call {
    std::vector<uint64_t> starts, cancels;
    bool half_closed = false;
    std::deque<v1::WorkerStreamsResponse> outbox;
    std::optional<grpc::Status> end;
  };

  absl::Mutex mu;
  std::vector<Call> calls ABSL_GUARDED_BY(mu);

  grpc::Status GenerateStreams(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::WorkerStreamsResponse, v1::WorkerStreamsRequest>* stream)
      override {
    size_t index;
    {
      absl::MutexLock lock(&mu);
      index = calls.size();
      calls.emplace_back();
    }
    std::thread reader([&] {
      v1::WorkerStreamsRequest request;
      while (stream->Read(&request)) {
        absl::MutexLock lock(&mu);
        for (const auto& s : request.starts()) calls[index].starts.push_back(s.sequence());
        for (uint64_t c : request.cancels()) calls[index].cancels.push_back(c);
      }
      absl::MutexLock lock(&mu);
      calls[index].half_closed = true;
    });
    grpc::Status end;
    while (true) {
      std::optional<v1::WorkerStreamsResponse> next;
      {
        absl::MutexLock lock(&mu);
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
          return !calls[index].outbox.empty() || calls[index].end.has_value() ||
                 calls[index].half_closed;
        };
        mu.Await(absl::Condition(&ready));
        if (!calls[index].outbox.empty()) {
          next = std::move(calls[index].outbox.front());
          calls[index].outbox.pop_front();
        } else {
          end = calls[index].end.value_or(grpc::Status::OK);
          break;
        }
      }
      stream->Write(*next);
    }
    // Ended by the test while the client still writes: end the reads too.
    if (!end.ok()) context->TryCancel();
    reader.join();
    return end;
  }

  // Queues `msg` on call `index`.
  void Post(size_t index, v1::WorkerStreamsResponse msg) {
    absl::MutexLock lock(&mu);
    calls[index].outbox.push_back(std::move(msg));
  }
  void End(size_t index, grpc::Status status) {
    absl::MutexLock lock(&mu);
    calls[index].end = std::move(status);
  }
  // Waits until `pred(calls)` holds.
  bool WaitFor(std::function<bool(const std::vector<Call>&)> pred) {
    absl::MutexLock lock(&mu);
    auto holds = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return pred(calls); };
    return mu.AwaitWithTimeout(absl::Condition(&holds), absl::Seconds(30));
  }
};

v1::WorkerStreamsResponse Tokens(uint64_t sequence, std::vector<uint32_t> ids,
                                 bool last = false) {
  v1::WorkerStreamsResponse msg;
  v1::WorkerStreamsResponse::Update* u = msg.add_updates();
  u->set_sequence(sequence);
  u->mutable_response()->mutable_token_ids()->Add(ids.begin(), ids.end());
  if (last) u->mutable_response()->set_finish_reason(v1::FINISH_REASON_LENGTH);
  return msg;
}

// What a sequence's arrival callback saw.
struct Arrivals {
  absl::Mutex mu;
  int count ABSL_GUARDED_BY(mu) = 0;
  std::function<void()> Callback() {
    return [this] {
      absl::MutexLock lock(&mu);
      ++count;
    };
  }
  bool WaitCount(int n) {
    absl::MutexLock lock(&mu);
    auto reached = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return count >= n; };
    return mu.AwaitWithTimeout(absl::Condition(&reached), absl::Seconds(30));
  }
};

class WorkerMuxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    runner_ = std::make_unique<ServiceRunner>(testing::LocalServerOptions());
    runner_->AddService(&worker_);
    ASSERT_TRUE(runner_->Start().ok());
    mux_ = std::make_unique<WorkerMux>(std::shared_ptr<v1::WorkerService::Stub>(
        v1::WorkerService::NewStub(testing::InsecureChannel(runner_->local_target()))));
    request_.set_model("m");
    request_.add_prompt_ids(1);
  }
  void TearDown() override {
    mux_.reset();
    absl::MutexLock lock(&worker_.mu);
    for (auto& call : worker_.calls) call.end = grpc::Status(grpc::StatusCode::CANCELLED, "");
  }

  static std::vector<uint32_t> Ids(WorkerCall& call) {
    v1::WorkerGenerateResponse batch;
    std::vector<uint32_t> ids;
    while (call.Take(&batch, 64) == WorkerCall::Took::kBatch) {
      ids.insert(ids.end(), batch.token_ids().begin(), batch.token_ids().end());
    }
    return ids;
  }

  ScriptedStreamsWorker worker_;
  std::unique_ptr<ServiceRunner> runner_;
  std::unique_ptr<WorkerMux> mux_;
  v1::WorkerGenerateRequest request_;
};

TEST_F(WorkerMuxTest, SequencesShareOneCallAndEachGetsItsOwnTokens) {
  Arrivals a_arrivals, b_arrivals;
  auto a = mux_->Start(request_, absl::InfiniteFuture(), a_arrivals.Callback());
  auto b = mux_->Start(request_, absl::InfiniteFuture(), b_arrivals.Callback());
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) {
    return calls.size() == 1 && calls[0].starts.size() == 2;
  }));
  v1::WorkerStreamsResponse both = Tokens(1, {5, 6});
  both.MergeFrom(Tokens(2, {7}));
  worker_.Post(0, both);
  worker_.Post(0, Tokens(2, {8}, /*last=*/true));
  worker_.Post(0, Tokens(1, {9}, /*last=*/true));
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(b->Finish().ok());
  EXPECT_THAT(Ids(*a), ElementsAre(5, 6, 9));
  EXPECT_THAT(Ids(*b), ElementsAre(7, 8));
  v1::WorkerGenerateResponse batch;
  EXPECT_EQ(a->Take(&batch, 64), WorkerCall::Took::kEnded);
  EXPECT_TRUE(a_arrivals.WaitCount(2));
  EXPECT_TRUE(b_arrivals.WaitCount(2));
  absl::MutexLock lock(&worker_.mu);
  EXPECT_EQ(worker_.calls.size(), 1u);
  EXPECT_THAT(worker_.calls[0].starts, ElementsAre(1, 2));
}

TEST_F(WorkerMuxTest, AFailedSequenceEndsWithItsStatusAndTheOthersGoOn) {
  auto a = mux_->Start(request_, absl::InfiniteFuture(), nullptr);
  auto b = mux_->Start(request_, absl::InfiniteFuture(), nullptr);
  v1::WorkerStreamsResponse refused;
  v1::WorkerStreamsResponse::Update* u = refused.add_updates();
  u->set_sequence(1);
  u->set_error_code(grpc::StatusCode::RESOURCE_EXHAUSTED);
  u->set_error_message("worker overloaded: 9 requests are waiting (limit 8)");
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) {
    return calls.size() == 1 && calls[0].starts.size() == 2;
  }));
  worker_.Post(0, refused);
  const grpc::Status st = a->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(st.error_message(), "worker overloaded: 9 requests are waiting (limit 8)");
  EXPECT_FALSE(a->Interrupted());
  worker_.Post(0, Tokens(2, {3}, /*last=*/true));
  EXPECT_TRUE(b->Finish().ok());
  EXPECT_THAT(Ids(*b), ElementsAre(3));
}

TEST_F(WorkerMuxTest, CancelEndsTheSequenceAtOnceAndTellsTheShard) {
  auto a = mux_->Start(request_, absl::InfiniteFuture(), nullptr);
  auto b = mux_->Start(request_, absl::InfiniteFuture(), nullptr);
  a->Cancel();
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(a->Interrupted());
  b.reset();  // Destroyed while open: cancelled too.
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) {
    return calls.size() == 1 && calls[0].cancels.size() == 2;
  }));
  absl::MutexLock lock(&worker_.mu);
  EXPECT_THAT(worker_.calls[0].cancels, UnorderedElementsAre(1, 2));
}

TEST_F(WorkerMuxTest, ASequencePastItsDeadlineEndsDeadlineExceeded) {
  auto a = mux_->Start(request_, absl::Now() + absl::Milliseconds(50), nullptr);
  EXPECT_EQ(a->Finish().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_TRUE(a->Interrupted());
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) {
    return calls.size() == 1 && calls[0].cancels.size() == 1;
  }));
}

TEST_F(WorkerMuxTest, ABrokenCallEndsItsSequencesUnavailableAndTheNextStartOpensAnother) {
  Arrivals arrivals;
  auto a = mux_->Start(request_, absl::InfiniteFuture(), arrivals.Callback());
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) { return calls.size() == 1; }));
  worker_.Post(0, Tokens(1, {4}));
  worker_.End(0, grpc::Status(grpc::StatusCode::INTERNAL, "boom"));
  const grpc::Status st = a->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(st.error_message(), ::testing::HasSubstr("broke"));
  EXPECT_THAT(Ids(*a), ElementsAre(4));  // What arrived before the break is still there.
  EXPECT_TRUE(arrivals.WaitCount(2));

  auto b = mux_->Start(request_, absl::InfiniteFuture(), nullptr);
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) {
    return calls.size() == 2 && calls[1].starts.size() == 1;
  }));
  worker_.Post(1, Tokens(1, {2}, /*last=*/true));  // Ids are the mux's, not the call's.
  worker_.Post(1, Tokens(2, {2}, /*last=*/true));
  EXPECT_TRUE(b->Finish().ok());
  EXPECT_THAT(Ids(*b), ElementsAre(2));
}

TEST_F(WorkerMuxTest, ADrainingShardGetsNoNewSequencesAndItsCallIsHalfClosedWhenEmpty) {
  Arrivals arrivals;
  auto a = mux_->Start(request_, absl::InfiniteFuture(), arrivals.Callback());
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) { return calls.size() == 1; }));
  v1::WorkerStreamsResponse draining = Tokens(1, {1});
  draining.set_draining(true);
  worker_.Post(0, draining);
  ASSERT_TRUE(arrivals.WaitCount(1));  // The draining message has arrived.
  auto b = mux_->Start(request_, absl::InfiniteFuture(), nullptr);
  ASSERT_TRUE(worker_.WaitFor([](const auto& calls) {
    return calls.size() == 2 && calls[1].starts.size() == 1;
  }));
  {
    absl::MutexLock lock(&worker_.mu);
    EXPECT_FALSE(worker_.calls[0].half_closed);  // Its sequence is still open.
  }
  worker_.Post(0, Tokens(1, {2}, /*last=*/true));
  EXPECT_TRUE(a->Finish().ok());
  EXPECT_TRUE(worker_.WaitFor([](const auto& calls) { return calls[0].half_closed; }));
  b->Cancel();
}

}  // namespace
}  // namespace sllm::gateway
