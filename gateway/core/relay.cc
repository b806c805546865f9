#include "gateway/core/relay.h"

#include <utility>

#include "gateway/core/worker_stream.h"

namespace sllm::gateway {

Relay::OpenCall Relay::GenerateCall(v1::WorkerService::Stub& worker,
                                    grpc::ClientContext* worker_context,
                                    const v1::WorkerGenerateRequest& request) {
  return [&worker, worker_context, &request](std::function<void()> on_arrival) {
    return std::make_unique<WorkerStream>(worker, worker_context, request, std::move(on_arrival));
  };
}

Relay::Relay(const OpenCall& open, DecodeMux& decoder, v1::DecodeStreamStart start,
             size_t max_batch, BatchHandler handler)
    : max_batch_(max_batch),
      handler_(std::move(handler)),
      start_(std::move(start)),
      decode_(decoder.Open()) {
  // Its first arrival may come before `open` returns: Pump waits for worker_.
  std::unique_ptr<WorkerCall> call = open([this] { Pump(); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    worker_ = std::move(call);
  }
  Pump();
}

Relay::~Relay() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;  // No batch starts from here on.
  }
  worker_->Cancel();  // A no-op once the call has ended.
  decode_->Close();   // No OnText runs after this.
  // worker_ is destroyed next and waits for its call's end.
}

Relay::Outcome Relay::Wait(absl::Time deadline) {
  absl::Status decode;
  bool interrupted;
  {
    std::unique_lock<std::mutex> lock(mu_);
    const auto stopped = [this] { return stopped_; };
    if (deadline == absl::InfiniteFuture()) {
      changed_.wait(lock, stopped);
    } else if (!changed_.wait_until(lock, absl::ToChronoTime(deadline), stopped)) {
      StopLocked(lock);
    }
    decode = decode_status_;
    interrupted = interrupted_;
  }
  // A failed decoder, a client gone or a deadline passed leaves nobody to relay the worker's
  // tokens: stop generating.
  if (!decode.ok() || interrupted) worker_->Cancel();
  decode_->Close();  // The tokenizer may drop the sequence now.
  return {worker_->Finish(), decode};
}

void Relay::Interrupt() {
  std::lock_guard<std::mutex> lock(mu_);
  interrupted_ = true;
  // Does not wait for a running handler (this may be its thread): its OnText stops the relay.
  if (!handling_ && !stopped_) {
    stopped_ = true;
    changed_.notify_all();
  }
}

void Relay::StopLocked(std::unique_lock<std::mutex>& lock) {
  interrupted_ = true;  // A running handler's OnText stops the relay when it returns.
  changed_.wait(lock, [this] { return stopped_ || !handling_; });
  stopped_ = true;
  changed_.notify_all();
}

void Relay::FailDecodeLocked(const absl::Status& why) {
  if (stopped_) return;
  stopped_ = true;
  decode_status_ = why;
  changed_.notify_all();
}

void Relay::Pump() {
  v1::DecodeStreamRequest step;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_ || worker_ == nullptr) return;
    // A cancelled or timed-out request relays nothing more and does not wait for text on its
    // way (but a running handler finishes before Wait returns).
    if (!handling_ && worker_->Interrupted()) {
      stopped_ = true;
      changed_.notify_all();
      return;
    }
    if (in_flight_) return;
    switch (worker_->Take(&batch_, max_batch_)) {
      case WorkerCall::Took::kWaiting:
        return;
      case WorkerCall::Took::kEnded:
        stopped_ = true;
        changed_.notify_all();
        return;
      case WorkerCall::Took::kBatch:
        break;
    }
    in_flight_ = true;
    if (std::exchange(first_, false)) *step.mutable_start() = start_;
    step.mutable_ids()->CopyFrom(batch_.token_ids());
    step.set_finish(batch_.finish_reason() != v1::FINISH_REASON_UNSPECIFIED);
  }
  // Outside the lock: the decoder may answer on another thread before Send returns.
  const absl::Status sent = decode_->Send(
      std::move(step), [this](absl::StatusOr<v1::DecodeStreamResponse> text) {
        OnText(std::move(text));
      });
  if (!sent.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ = false;
    FailDecodeLocked(sent);
  }
}

void Relay::OnText(absl::StatusOr<v1::DecodeStreamResponse> text) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!text.ok() || stopped_) {
      in_flight_ = false;
      if (!text.ok()) FailDecodeLocked(text.status());
      return;
    }
    handling_ = true;
  }
  // batch_ stays ours until the batch is over (in_flight_).
  const bool go_on = handler_(batch_, text->text());
  const bool last = batch_.finish_reason() != v1::FINISH_REASON_UNSPECIFIED;
  // Stopped early (a stop string) or the client is gone: stop generating.
  if (!go_on && !last) worker_->Cancel();
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_ = handling_ = false;
    // Interrupted meanwhile: StopLocked waits for this handler to be over.
    if (!go_on || last || interrupted_) {
      stopped_ = true;
      changed_.notify_all();
    }
  }
  Pump();
}

}  // namespace sllm::gateway
