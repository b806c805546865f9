#include "gateway/core/decode_mux.h"

#include <condition_variable>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/alarm.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "services/common/grpc_status.h"

namespace sllm::gateway {
namespace {

// The streams whose writes the thread's outermost BatchScope holds back; null outside one.
thread_local std::vector<std::shared_ptr<DecodeMux::Connection>>* t_held = nullptr;

}  // namespace

// One DecodeStreams call and the sequences on it.
class DecodeMux::Connection final
    : public grpc::ClientBidiReactor<v1::DecodeStreamsRequest, v1::DecodeStreamsResponse>,
      public std::enable_shared_from_this<Connection> {
 public:
  Connection(v1::TokenizerService::Stub& stub, absl::Duration idle_close)
      : idle_close_(idle_close) {
    stub.async()->DecodeStreams(&context_, this);
    // Ours until the stream breaks or is shut down: until then a Send may start a write.
    AddHold();
    StartRead(&response_);
    StartCall();
  }

  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

  // Adds sequence `id`; false when the stream takes no new sequences (broken, draining,
  // closing), unless `fresh`: a stream just opened takes its first sequence even if it broke at
  // once (its steps then fail with why).
  bool Register(uint64_t id, bool fresh = false) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!fresh && (broken_ || retired_ || closing_)) return false;
    sequences_.emplace(id, SequenceState{});
    return true;
  }

  absl::Status Send(uint64_t id, v1::DecodeStreamRequest request, Done done) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_) return failure_;
      auto it = sequences_.find(id);
      if (it == sequences_.end()) {
        return absl::FailedPreconditionError(absl::StrCat("decode sequence ", id, " is closed"));
      }
      SequenceState& s = it->second;
      if (s.done) {
        return absl::FailedPreconditionError(
            absl::StrCat("decode sequence ", id, " already has a step in flight"));
      }
      s.done = std::move(done);
      s.sent = true;
      v1::DecodeStreamsRequest::Step* step = queued_.add_steps();
      step->set_sequence(id);
      *step->mutable_request() = std::move(request);
      if (t_held != nullptr) {  // Sent when the thread's BatchScope ends.
        if (!held_) {
          held_ = true;
          t_held->push_back(shared_from_this());
        }
        return absl::OkStatus();
      }
      if (PrepareWriteLocked() != Write::kMessage) return absl::OkStatus();
      AddHold();  // The main hold is still ours (not broken): the call cannot end meanwhile.
    }
    StartWrite(&writing_);
    RemoveHold();
    return absl::OkStatus();
  }

  void Close(uint64_t id) {
    Write write;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // A `done` of this sequence running on another thread finishes first; one running on
      // this thread is the caller. (Look the entry up again after each wait: other sequences
      // come and go meanwhile.)
      auto it = sequences_.end();
      dispatched_.wait(lock, [&] {
        it = sequences_.find(id);
        return it == sequences_.end() || !it->second.dispatching ||
               it->second.dispatch_thread == std::this_thread::get_id();
      });
      if (it == sequences_.end()) return;
      const bool open_there = it->second.sent && !it->second.ended;
      sequences_.erase(it);
      if (broken_ || closing_) return;
      if (sequences_.empty() && retired_) {
        closing_ = true;  // Its end drops what the tokenizer holds: no cancel needed.
      } else {
        if (sequences_.empty()) {
          idle_since_ = absl::Now();
          if (!idle_alarm_armed_) SetIdleAlarmLocked();
        }
        if (!open_there) return;
        v1::DecodeStreamsRequest::Step* step = queued_.add_steps();
        step->set_sequence(id);
        step->set_cancel(true);
      }
      write = PrepareWriteLocked();
      if (write == Write::kNone) return;
      AddHold();
    }
    StartNext(write);
    RemoveHold();
  }

  // Sends what a BatchScope held back, when it can go now.
  void Release() {
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held_ = false;
      write = PrepareWriteLocked();
      if (write == Write::kNone) return;
      AddHold();  // The main hold is ours: a write can be prepared only while not broken.
    }
    StartNext(write);
    RemoveHold();
  }

  // Ends the stream (the mux is going away); OnDone follows.
  void Shutdown() {
    Break(absl::CancelledError("the gateway is shutting down"));
    context_.TryCancel();
  }

  // Waits for OnDone.
  void WaitDone() {
    std::unique_lock<std::mutex> lock(mu_);
    dispatched_.wait(lock, [this] { return done_; });
  }

  void OnWriteDone(bool ok) override {
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      write_busy_ = false;
      // A failed write fails the read too, which breaks the stream.
      if (!ok) return;
      write = PrepareWriteLocked();
    }
    StartNext(write);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Break(absl::UnavailableError("the decode stream to the tokenizer service broke"));
      return;
    }
    if (response_.draining()) {
      // Before the answers run: a new sequence opened from one of them must go elsewhere.
      std::lock_guard<std::mutex> lock(mu_);
      retired_ = true;
    }
    for (v1::DecodeStreamsResponse::Result& result : *response_.mutable_results()) {
      absl::StatusOr<v1::DecodeStreamResponse> text =
          result.error_code() == 0
              ? absl::StatusOr<v1::DecodeStreamResponse>(std::move(*result.mutable_response()))
              : absl::Status(FromGrpcCode(static_cast<grpc::StatusCode>(result.error_code())),
                             result.error_message());
      Dispatch(result.sequence(), std::move(text));
    }
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      awaiting_ = false;
      // Retired with no sequence left (the answers may have closed the last): half-close.
      if (retired_ && sequences_.empty()) closing_ = true;
      write = PrepareWriteLocked();
    }
    response_.Clear();
    StartRead(&response_);
    StartNext(write);
  }

  void OnDone(const grpc::Status& /*status: the break already failed the sequences*/) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    dispatched_.notify_all();
  }

 private:
  struct SequenceState {
    Done done;           // Set while a step is in flight.
    bool sent = false;   // A step went out: the tokenizer may hold the sequence.
    bool ended = false;  // The tokenizer closed it (finished, or a step failed).
    bool dispatching = false;        // Its `done` runs ...
    std::thread::id dispatch_thread;  // ... on this thread.
  };

  enum class Write { kNone, kMessage, kWritesDone };

  // What to write next, if anything can go now; `mu_` held. A message takes the queued steps
  // when none is on its way; once closing, the half-close follows the last write.
  Write PrepareWriteLocked() {
    if (broken_ || write_busy_ || writes_done_) return Write::kNone;
    if (closing_) {
      writes_done_ = true;
      return Write::kWritesDone;
    }
    if (awaiting_ || queued_.steps_size() == 0) return Write::kNone;
    writing_.Clear();
    writing_.Swap(&queued_);
    write_busy_ = awaiting_ = true;
    return Write::kMessage;
  }

  void StartNext(Write write) {
    if (write == Write::kMessage) StartWrite(&writing_);
    if (write == Write::kWritesDone) StartWritesDone();
  }

  // Checks at `idle_since_ + idle_close_` whether the stream is still without sequences, and
  // half-closes it then; `mu_` held.
  void SetIdleAlarmLocked() {
    idle_alarm_armed_ = true;
    idle_alarm_ = std::make_unique<grpc::Alarm>();
    std::weak_ptr<Connection> self = weak_from_this();
    idle_alarm_->Set(absl::ToChronoTime(idle_since_ + idle_close_), [self](bool fired) {
      if (auto connection = self.lock()) connection->OnIdleAlarm(fired);
    });
  }

  void OnIdleAlarm(bool fired) {
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      idle_alarm_armed_ = false;
      if (!fired || broken_ || closing_ || !sequences_.empty()) return;
      if (absl::Now() - idle_since_ < idle_close_) {  // Used again meanwhile: wait on.
        SetIdleAlarmLocked();
        return;
      }
      closing_ = true;
      write = PrepareWriteLocked();
      if (write == Write::kNone) return;
      AddHold();
    }
    StartNext(write);
    RemoveHold();
  }

  // Runs sequence `id`'s `done` with `text`, unless it was closed meanwhile.
  void Dispatch(uint64_t id, absl::StatusOr<v1::DecodeStreamResponse> text) {
    Done done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = sequences_.find(id);
      if (it == sequences_.end() || !it->second.done) return;  // Closed meanwhile.
      done = std::move(it->second.done);
      it->second.done = nullptr;
      if (!text.ok() || text->finished()) it->second.ended = true;
      it->second.dispatching = true;
      it->second.dispatch_thread = std::this_thread::get_id();
    }
    done(std::move(text));
    std::lock_guard<std::mutex> lock(mu_);
    // Close waits for this: the entry is still there.
    auto it = sequences_.find(id);
    if (it != sequences_.end()) it->second.dispatching = false;
    dispatched_.notify_all();
  }

  // Fails every step in flight with `why`, refuses new ones, and lets the call end.
  void Break(const absl::Status& why) {
    std::vector<uint64_t> waiting;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_) return;
      broken_ = true;
      failure_ = why;
      for (auto& [id, s] : sequences_) {
        if (s.done) waiting.push_back(id);
      }
    }
    for (uint64_t id : waiting) Dispatch(id, why);
    RemoveHold();  // The constructor's: no Send starts a write any more.
  }

  const absl::Duration idle_close_;
  grpc::ClientContext context_;
  v1::DecodeStreamsRequest writing_;    // Owned by the write in flight.
  v1::DecodeStreamsResponse response_;  // Owned by the read in flight.

  std::mutex mu_;
  std::condition_variable dispatched_;  // Signals a `done` returning, and done_.
  absl::flat_hash_map<uint64_t, SequenceState> sequences_;  // Guarded by mu_: the open ones.
  v1::DecodeStreamsRequest queued_;   // Guarded by mu_: steps for the next write.
  bool write_busy_ = false;           // Guarded by mu_: a write is on its way.
  bool awaiting_ = false;             // Guarded by mu_: a message is not answered yet.
  bool retired_ = false;              // Guarded by mu_: the tokenizer is draining.
  bool closing_ = false;              // Guarded by mu_: to be half-closed, no more steps.
  bool writes_done_ = false;          // Guarded by mu_: the half-close was started.
  bool broken_ = false;               // Guarded by mu_.
  absl::Status failure_;              // Guarded by mu_: why, once broken_.
  bool done_ = false;                 // Guarded by mu_: OnDone ran.
  bool held_ = false;                 // Guarded by mu_: in a thread's BatchScope list.
  absl::Time idle_since_;             // Guarded by mu_: when the last sequence closed.
  bool idle_alarm_armed_ = false;     // Guarded by mu_.
  std::unique_ptr<grpc::Alarm> idle_alarm_;  // Guarded by mu_.
};

DecodeMux::BatchScope::BatchScope() : outermost_(t_held == nullptr) {
  if (outermost_) t_held = new std::vector<std::shared_ptr<Connection>>();
}

DecodeMux::BatchScope::~BatchScope() {
  if (!outermost_) return;
  std::unique_ptr<std::vector<std::shared_ptr<Connection>>> held(t_held);
  t_held = nullptr;
  for (const auto& connection : *held) connection->Release();
}

DecodeMux::Sequence::Sequence(std::shared_ptr<Connection> connection, uint64_t id)
    : connection_(std::move(connection)), id_(id) {}

DecodeMux::Sequence::~Sequence() { Close(); }

absl::Status DecodeMux::Sequence::Send(v1::DecodeStreamRequest request, Done done) {
  return connection_->Send(id_, std::move(request), std::move(done));
}

void DecodeMux::Sequence::Close() { connection_->Close(id_); }

DecodeMux::DecodeMux(v1::TokenizerService::Stub& stub, absl::Duration idle_close)
    : stub_(stub), idle_close_(idle_close) {}

DecodeMux::~DecodeMux() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : connections_) c->Shutdown();
  for (const auto& c : connections_) c->WaitDone();
}

std::unique_ptr<DecodeMux::Sequence> DecodeMux::Open() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t id = next_id_.fetch_add(1);
  if (current_ == nullptr || !current_->Register(id)) {
    // Forget the streams gRPC is done with (their sequences keep them alive while they last).
    std::erase_if(connections_, [](const auto& c) { return c->done(); });
    current_ = std::make_shared<Connection>(stub_, idle_close_);
    connections_.push_back(current_);
    current_->Register(id, /*fresh=*/true);
  }
  return std::unique_ptr<Sequence>(new Sequence(current_, id));
}

}  // namespace sllm::gateway
