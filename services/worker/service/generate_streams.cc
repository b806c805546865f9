#include "services/worker/service/generate_streams.h"

#include <mutex>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "proto/worker_response_merge.h"
#include "services/common/grpc_status.h"
#include "services/worker/service/generation_recorder.h"

namespace sllm::worker {

struct GenerateStreamsReactor::Shared {
  struct Live {
    ServedEngine* served = nullptr;
    uint64_t engine_id = 0;  // 0 until Submit has returned.
    uint64_t serial = 0;     // Which start of this sequence id the entry is.
  };

  std::mutex mu;
  GenerateStreamsReactor* reactor = nullptr;  // Null once the call is done.
  // The open sequences; an id leaves when its last update is queued or the client cancels it.
  absl::flat_hash_map<uint64_t, Live> live;
  uint64_t next_serial = 1;
  v1::WorkerStreamsResponse pending;                 // The next message.
  absl::flat_hash_map<uint64_t, int> pending_index;  // Sequence -> its update in `pending`.
  v1::WorkerStreamsResponse writing;                 // Owned by the write in flight.
  bool write_busy = false;
  bool draining = false;       // Drain() was called.
  bool draining_told = false;  // A message carrying `draining` was queued.
  bool reads_done = false;     // The client half-closed (or is gone).
  bool finished = false;       // Finish() was called (or is about to be).
  // A step listener per engine this call has used (see Engine::AddStepListener).
  absl::flat_hash_map<Engine*, std::shared_ptr<const std::function<void()>>> listeners;

  // The update of `sequence` in the next message; `mu` held.
  v1::WorkerStreamsResponse::Update& UpdateLocked(uint64_t sequence) {
    auto [it, added] = pending_index.try_emplace(sequence, pending.updates_size());
    if (!added) return *pending.mutable_updates(it->second);
    v1::WorkerStreamsResponse::Update* u = pending.add_updates();
    u->set_sequence(sequence);
    return *u;
  }

  // Ends `sequence` with `status`; `mu` held.
  void FailLocked(uint64_t sequence, const absl::Status& status) {
    v1::WorkerStreamsResponse::Update& u = UpdateLocked(sequence);
    u.set_error_code(static_cast<int32_t>(ToGrpcStatus(status).error_code()));
    u.set_error_message(std::string(status.message()));
  }

  enum class Next { kNothing, kWrite, kFinish };
  // What the call does next; `mu` held. A write when none is on its way and there is
  // something to send; the end of the call once the client has half-closed and every
  // sequence has ended and been sent.
  Next PrepareLocked() {
    if (reactor == nullptr || finished || write_busy) return Next::kNothing;
    if (draining && !draining_told) {
      pending.set_draining(true);
      draining_told = true;
    }
    if (pending.updates_size() > 0 || pending.draining()) {
      writing.Clear();
      writing.Swap(&pending);
      pending_index.clear();
      write_busy = true;
      return Next::kWrite;
    }
    if (reads_done && live.empty()) {
      finished = true;
      return Next::kFinish;
    }
    return Next::kNothing;
  }

  // Sends what is pending, or ends the call, when it can. The reactor cannot go away meanwhile:
  // only this call and a failed write finish it, and a write in flight excludes both.
  static void Flush(const std::shared_ptr<Shared>& shared) {
    GenerateStreamsReactor* reactor;
    Next next;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      next = shared->PrepareLocked();
      reactor = shared->reactor;
    }
    if (next == Next::kWrite) reactor->StartWrite(&shared->writing);
    if (next == Next::kFinish) reactor->Finish(grpc::Status::OK);
  }

  // The engine ids of every open sequence, which are forgotten; `mu` held.
  std::vector<std::pair<ServedEngine*, uint64_t>> TakeLiveLocked() {
    std::vector<std::pair<ServedEngine*, uint64_t>> ids;
    for (const auto& [sequence, l] : live) {
      if (l.engine_id != 0) ids.emplace_back(l.served, l.engine_id);
    }
    live.clear();
    return ids;
  }
};

namespace {

void CancelAll(const std::vector<std::pair<ServedEngine*, uint64_t>>& ids) {
  for (const auto& [served, id] : ids) served->engine->Cancel(id);
}

}  // namespace

GenerateStreamsReactor::GenerateStreamsReactor(
    FindEngine find, std::function<void(GenerateStreamsReactor*)> on_done, bool draining)
    : find_(std::move(find)), on_done_(std::move(on_done)), shared_(std::make_shared<Shared>()) {
  shared_->reactor = this;
  shared_->draining = draining;
  StartRead(&request_);
  if (draining) Shared::Flush(shared_);
}

void GenerateStreamsReactor::Drain() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (shared_->draining) return;
    shared_->draining = true;
  }
  Shared::Flush(shared_);
}

void GenerateStreamsReactor::OnReadDone(bool ok) {
  if (!ok) {  // Half-closed (or gone): the call ends once its sequences have.
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->reads_done = true;
    }
    Shared::Flush(shared_);
    return;
  }
  for (const v1::WorkerStreamsRequest::Start& start : request_.starts()) StartSequence(start);
  for (uint64_t sequence : request_.cancels()) CancelSequence(sequence);
  // Refusals went to `pending` here, not in an engine step: send them now.
  Shared::Flush(shared_);
  request_.Clear();
  std::lock_guard<std::mutex> lock(shared_->mu);
  if (!shared_->finished) StartRead(&request_);
}

void GenerateStreamsReactor::StartSequence(const v1::WorkerStreamsRequest::Start& start) {
  const uint64_t sequence = start.sequence();
  absl::StatusOr<ServedEngine*> served = find_(start.request().model());
  absl::StatusOr<GenerateParams> params = ToGenerateParams(start.request());
  std::vector<std::pair<ServedEngine*, uint64_t>> replaced;
  uint64_t serial = 0;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (auto it = shared_->live.find(sequence); it != shared_->live.end()) {
      // A client bug: the open one ends too, so that the client is not left waiting for it.
      if (it->second.engine_id != 0) replaced.emplace_back(it->second.served, it->second.engine_id);
      shared_->live.erase(it);
      shared_->FailLocked(sequence, absl::InvalidArgumentError(absl::StrCat(
                                        "sequence ", sequence, " was started while open")));
    } else if (shared_->draining) {
      shared_->FailLocked(sequence, absl::UnavailableError(
                                        "the shard is shutting down: start the request on "
                                        "another shard"));
    } else if (!served.ok()) {
      shared_->FailLocked(sequence, served.status());
    } else if (!params.ok()) {
      GenerationRecorder::CountRejected((*served)->metrics.get());
      shared_->FailLocked(sequence, params.status());
    } else {
      serial = shared_->next_serial++;
      shared_->live[sequence] = Shared::Live{*served, 0, serial};
      Engine* engine = (*served)->engine.get();
      if (!shared_->listeners.contains(engine)) {
        std::weak_ptr<Shared> weak = shared_;
        auto listener = std::make_shared<const std::function<void()>>([weak] {
          if (std::shared_ptr<Shared> shared = weak.lock()) Shared::Flush(shared);
        });
        engine->AddStepListener(listener);
        shared_->listeners.emplace(engine, std::move(listener));
      }
    }
  }
  CancelAll(replaced);
  if (serial == 0) return;

  std::weak_ptr<Shared> weak = shared_;
  GenerationRecorder recorder((*served)->metrics.get());
  // On the engine thread; sent by the step listener once the step is over.
  auto on_event = [weak, sequence, serial, recorder](const TokenEvent& ev) mutable {
    std::shared_ptr<Shared> shared = weak.lock();
    if (shared == nullptr) return;
    v1::WorkerGenerateResponse msg;
    const GenerationRecorder::Result result = recorder.Record(ev, &msg);
    std::lock_guard<std::mutex> lock(shared->mu);
    auto it = shared->live.find(sequence);
    // Cancelled by the client (or the call is over): nothing more goes out for it.
    if (it == shared->live.end() || it->second.serial != serial) return;
    if (ev.finished) shared->live.erase(it);
    if (result == GenerationRecorder::Result::kRefused) {
      shared->FailLocked(sequence, ev.error);
      return;
    }
    v1::WorkerStreamsResponse::Update& u = shared->UpdateLocked(sequence);
    if (u.has_response()) {
      AppendWorkerResponse(msg, u.mutable_response());
    } else {
      *u.mutable_response() = std::move(msg);
    }
  };
  absl::StatusOr<uint64_t> id = (*served)->engine->Submit(std::move(*params), std::move(on_event));
  std::lock_guard<std::mutex> lock(shared_->mu);
  auto it = shared_->live.find(sequence);
  const bool still_open = it != shared_->live.end() && it->second.serial == serial;
  if (!id.ok()) {
    GenerationRecorder::CountRejected((*served)->metrics.get());
    if (still_open) shared_->live.erase(it);
    shared_->FailLocked(sequence, id.status());
    return;
  }
  if (still_open) it->second.engine_id = *id;
}

void GenerateStreamsReactor::CancelSequence(uint64_t sequence) {
  ServedEngine* served = nullptr;
  uint64_t id = 0;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    auto it = shared_->live.find(sequence);
    if (it == shared_->live.end()) return;
    served = it->second.served;
    id = it->second.engine_id;
    shared_->live.erase(it);
  }
  if (id != 0) served->engine->Cancel(id);
}

void GenerateStreamsReactor::OnWriteDone(bool ok) {
  std::vector<std::pair<ServedEngine*, uint64_t>> cancelled;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->write_busy = false;
    if (ok) {
      cancelled.clear();
    } else {
      // The client is gone: stop generating for it and end the call.
      cancelled = shared_->TakeLiveLocked();
      shared_->finished = true;
    }
  }
  if (ok) {
    Shared::Flush(shared_);
    return;
  }
  CancelAll(cancelled);
  Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
}

void GenerateStreamsReactor::OnCancel() {
  std::vector<std::pair<ServedEngine*, uint64_t>> cancelled;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    cancelled = shared_->TakeLiveLocked();
    shared_->reads_done = true;
  }
  CancelAll(cancelled);
  Shared::Flush(shared_);  // Ends the call unless a write is on its way (its failure does).
}

void GenerateStreamsReactor::OnDone() {
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->reactor = nullptr;
    shared_->listeners.clear();
  }
  on_done_(this);
  delete this;
}

}  // namespace sllm::worker
