#include "gateway/core/worker_mux.h"

#include <condition_variable>
#include <deque>
#include <string>
#include <thread>
#include <utility>

#include "absl/container/node_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gateway/core/decode_mux.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"

namespace sllm::gateway {
namespace {

bool Interruption(const grpc::Status& status) {
  return status.error_code() == grpc::StatusCode::CANCELLED ||
         status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
}

}  // namespace

// One GenerateStreams call and the sequences on it.
class WorkerMux::Connection final
    : public grpc::ClientBidiReactor<v1::WorkerStreamsRequest, v1::WorkerStreamsResponse>,
      public std::enable_shared_from_this<Connection> {
 public:
  explicit Connection(v1::WorkerService::Stub& stub) {
    stub.async()->GenerateStreams(&context_, this);
    // Ours until the call breaks or is shut down: until then a Start may start a write.
    AddHold();
    StartRead(&response_);
    StartCall();
  }

  bool done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

  // Adds sequence `id` and queues its start; false when the call takes no new sequences
  // (broken, draining, closing), unless `fresh`: a call just opened takes its first sequence
  // even if it broke at once (the sequence then ends with why).
  bool Add(uint64_t id, const v1::WorkerGenerateRequest& request, absl::Time deadline,
           std::function<void()> on_arrival, bool fresh) {
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!fresh && (broken_ || retired_ || closing_)) return false;
      State& s = sequences_[id];
      s.deadline = deadline;
      s.on_arrival = std::move(on_arrival);
      ++open_;
      if (broken_) {
        EndLocked(s, ToGrpc(failure_));
        return true;  // Take reports the end; Finish its status.
      }
      v1::WorkerStreamsRequest::Start* start = queued_.add_starts();
      start->set_sequence(id);
      *start->mutable_request() = request;
      write = PrepareWriteLocked();
      if (write == Write::kNone) return true;
      AddHold();  // The main hold is still ours (not broken): the call cannot end meanwhile.
    }
    StartNext(write);
    RemoveHold();
    return true;
  }

  WorkerCall::Took Take(uint64_t id, v1::WorkerGenerateResponse* out, size_t max_messages) {
    std::lock_guard<std::mutex> lock(mu_);
    State& s = sequences_.at(id);
    return TakeArrived(s.arrived, s.ended, out, max_messages);
  }

  grpc::Status Finish(uint64_t id) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      State& s = sequences_.at(id);
      if (s.deadline == absl::InfiniteFuture()) {
        changed_.wait(lock, [&s] { return s.ended; });
      } else {
        changed_.wait_until(lock, absl::ToChronoTime(s.deadline), [&s] { return s.ended; });
      }
      if (s.ended) return s.status;
    }
    Cancel(id);  // The deadline passed: it ends DEADLINE_EXCEEDED.
    std::lock_guard<std::mutex> lock(mu_);
    return sequences_.at(id).status;
  }

  bool Interrupted(uint64_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    const State& s = sequences_.at(id);
    return s.ended ? Interruption(s.status) : absl::Now() >= s.deadline;
  }

  // Ends the sequence here (CANCELLED, or DEADLINE_EXCEEDED past its deadline) and tells the
  // shard to drop it.
  void Cancel(uint64_t id) {
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      State& s = sequences_.at(id);
      if (s.ended) return;
      write = CancelLocked(id, s);
      if (write == Write::kNone) return;
      AddHold();
    }
    StartNext(write);
    RemoveHold();
  }

  // Forgets sequence `id`, cancelling it if still open: no `on_arrival` of it runs after
  // this returns (one running on another thread is waited for).
  void Remove(uint64_t id) {
    Write write;
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Look the entry up again after each wait: other sequences come and go meanwhile.
      auto it = sequences_.end();
      changed_.wait(lock, [&] {
        it = sequences_.find(id);
        return it == sequences_.end() || !it->second.dispatching ||
               it->second.dispatch_thread == std::this_thread::get_id();
      });
      if (it == sequences_.end()) return;
      write = it->second.ended ? Write::kNone : CancelLocked(id, it->second);
      sequences_.erase(it);
      if (write == Write::kNone) return;
      AddHold();
    }
    StartNext(write);
    RemoveHold();
  }

  // Ends the call (the mux is going away); OnDone follows.
  void Shutdown() {
    Break(absl::CancelledError("the gateway is shutting down"));
    context_.TryCancel();
  }

  void WaitDone() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return done_; });
  }

  void OnWriteDone(bool ok) override {
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      write_busy_ = false;
      if (!ok) return;  // A failed write fails the read too, which breaks the call.
      write = PrepareWriteLocked();
    }
    StartNext(write);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Break(absl::UnavailableError("the GenerateStreams call to the worker shard broke"));
      return;
    }
    std::vector<uint64_t> arrivals;
    {
      std::lock_guard<std::mutex> lock(mu_);
      // Before the arrivals run: a request retried from one of them must go elsewhere.
      if (response_.draining()) retired_ = true;
      for (v1::WorkerStreamsResponse::Update& u : *response_.mutable_updates()) {
        auto it = sequences_.find(u.sequence());
        if (it == sequences_.end() || it->second.ended) continue;  // Cancelled here.
        State& s = it->second;
        if (u.error_code() != 0) {
          EndLocked(s, grpc::Status(static_cast<grpc::StatusCode>(u.error_code()),
                                    u.error_message()));
        } else {
          const bool last = u.response().finish_reason() != v1::FINISH_REASON_UNSPECIFIED;
          s.arrived.push_back(std::move(*u.mutable_response()));
          if (last) EndLocked(s, grpc::Status::OK);
        }
        arrivals.push_back(u.sequence());
      }
    }
    Dispatch(arrivals);
    Write write;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (retired_ && open_ == 0) closing_ = true;
      write = PrepareWriteLocked();
    }
    response_.Clear();
    StartRead(&response_);
    StartNext(write);
  }

  void OnDone(const grpc::Status& /*the break already ended the sequences*/) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    changed_.notify_all();
  }

 private:
  struct State {
    std::deque<v1::WorkerGenerateResponse> arrived;
    bool ended = false;
    grpc::Status status;  // Once ended.
    absl::Time deadline = absl::InfiniteFuture();
    std::function<void()> on_arrival;
    bool dispatching = false;         // Its on_arrival runs ...
    std::thread::id dispatch_thread;  // ... on this thread.
  };

  enum class Write { kNone, kMessage, kWritesDone };

  static grpc::Status ToGrpc(const absl::Status& status) {
    return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                        std::string(status.message()));
  }

  // `mu_` held.
  void EndLocked(State& s, grpc::Status status) {
    s.ended = true;
    s.status = std::move(status);
    --open_;
    changed_.notify_all();
  }

  // Ends `s` here and queues its cancel; `mu_` held. Returns the write to start.
  Write CancelLocked(uint64_t id, State& s) {
    const bool expired = absl::Now() >= s.deadline;
    EndLocked(s, expired ? grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                        "the request's deadline passed")
                         : grpc::Status(grpc::StatusCode::CANCELLED, "the request was cancelled"));
    if (broken_) return Write::kNone;
    queued_.add_cancels(id);
    if (retired_ && open_ == 0) closing_ = true;
    return PrepareWriteLocked();
  }

  // What to write next, if anything can go now; `mu_` held. A message takes everything
  // queued; once closing, the half-close follows the last write.
  Write PrepareWriteLocked() {
    if (broken_ || write_busy_ || writes_done_) return Write::kNone;
    if (queued_.starts_size() > 0 || queued_.cancels_size() > 0) {
      writing_.Clear();
      writing_.Swap(&queued_);
      write_busy_ = true;
      return Write::kMessage;
    }
    if (closing_) {
      writes_done_ = true;
      return Write::kWritesDone;
    }
    return Write::kNone;
  }

  void StartNext(Write write) {
    if (write == Write::kMessage) StartWrite(&writing_);
    if (write == Write::kWritesDone) StartWritesDone();
  }

  // Runs the arrival callbacks of `ids` (those still known), with no lock held. Their decode
  // steps to the tokenizer leave together, when the last has run.
  void Dispatch(const std::vector<uint64_t>& ids) {
    if (ids.empty()) return;
    std::vector<std::pair<uint64_t, std::function<void()>*>> calls;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (uint64_t id : ids) {
        auto it = sequences_.find(id);
        if (it == sequences_.end() || it->second.dispatching || !it->second.on_arrival) continue;
        it->second.dispatching = true;
        it->second.dispatch_thread = std::this_thread::get_id();
        // The entry stays until `dispatching` is cleared (Remove waits for it).
        calls.emplace_back(id, &it->second.on_arrival);
      }
    }
    {
      DecodeMux::BatchScope batch;
      for (auto& [id, on_arrival] : calls) (*on_arrival)();
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, on_arrival] : calls) {
      auto it = sequences_.find(id);
      if (it != sequences_.end()) it->second.dispatching = false;
    }
    changed_.notify_all();
  }

  // Ends every open sequence with `why`, refuses new ones, and lets the call end.
  void Break(const absl::Status& why) {
    std::vector<uint64_t> ended;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (broken_) return;
      broken_ = true;
      failure_ = why;
      for (auto& [id, s] : sequences_) {
        if (s.ended) continue;
        EndLocked(s, ToGrpc(why));
        ended.push_back(id);
      }
    }
    Dispatch(ended);
    RemoveHold();  // The constructor's: no Start or Cancel starts a write any more.
  }

  grpc::ClientContext context_;
  v1::WorkerStreamsRequest writing_;    // Owned by the write in flight.
  v1::WorkerStreamsResponse response_;  // Owned by the read in flight.

  std::mutex mu_;
  std::condition_variable changed_;  // Signals ends, dispatches returning, and done_.
  // Guarded by mu_: every sequence until its WorkerCall is destroyed. A node map: a State
  // stays where it is while others come and go (waits and dispatches hold on to it).
  absl::node_hash_map<uint64_t, State> sequences_;
  int open_ = 0;                      // Guarded by mu_: sequences not ended.
  v1::WorkerStreamsRequest queued_;   // Guarded by mu_: starts and cancels to send.
  bool write_busy_ = false;           // Guarded by mu_: a write is on its way.
  bool retired_ = false;              // Guarded by mu_: the shard is draining.
  bool closing_ = false;              // Guarded by mu_: to be half-closed, no new sequences.
  bool writes_done_ = false;          // Guarded by mu_: the half-close was started.
  bool broken_ = false;               // Guarded by mu_.
  absl::Status failure_;              // Guarded by mu_: why, once broken_.
  bool done_ = false;                 // Guarded by mu_: OnDone ran.
};

// One request's sequence, as a WorkerCall.
class WorkerMux::Sequence final : public WorkerCall {
 public:
  Sequence(std::shared_ptr<Connection> connection, uint64_t id)
      : connection_(std::move(connection)), id_(id) {}
  ~Sequence() override { connection_->Remove(id_); }

  Took Take(v1::WorkerGenerateResponse* out, size_t max_messages) override {
    return connection_->Take(id_, out, max_messages);
  }
  grpc::Status Finish() override { return connection_->Finish(id_); }
  bool Interrupted() override { return connection_->Interrupted(id_); }
  void Cancel() override { connection_->Cancel(id_); }

 private:
  const std::shared_ptr<Connection> connection_;
  const uint64_t id_;
};

WorkerMux::WorkerMux(std::shared_ptr<v1::WorkerService::Stub> stub) : stub_(std::move(stub)) {}

WorkerMux::~WorkerMux() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& c : connections_) c->Shutdown();
  for (const auto& c : connections_) c->WaitDone();
}

std::unique_ptr<WorkerCall> WorkerMux::Start(const v1::WorkerGenerateRequest& request,
                                             absl::Time deadline,
                                             std::function<void()> on_arrival) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t id = next_id_++;
  if (current_ == nullptr || !current_->Add(id, request, deadline, on_arrival, false)) {
    // Forget the calls gRPC is done with (their sequences keep them alive while they last).
    std::erase_if(connections_, [](const auto& c) { return c->done(); });
    current_ = std::make_shared<Connection>(*stub_);
    connections_.push_back(current_);
    current_->Add(id, request, deadline, std::move(on_arrival), /*fresh=*/true);
  }
  return std::make_unique<Sequence>(current_, id);
}

}  // namespace sllm::gateway
