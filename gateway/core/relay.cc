#include "gateway/core/relay.h"

#include <utility>

namespace sllm::gateway {

Relay::Relay(v1::WorkerService::Stub& worker, grpc::ClientContext* worker_context,
             const v1::WorkerGenerateRequest& request, v1::TokenizerService::Stub& tokenizer,
             grpc::ClientContext* decode_context, v1::DecodeStreamRequest start,
             size_t max_batch, BatchHandler handler)
    : worker_context_(worker_context),
      decode_context_(decode_context),
      max_batch_(max_batch),
      handler_(std::move(handler)),
      start_(std::move(start)),
      decode_started_(StartDecode(tokenizer)),
      worker_(worker, worker_context, request, [this] { Pump(); }) {}

bool Relay::StartDecode(v1::TokenizerService::Stub& tokenizer) {
  tokenizer.async()->DecodeStream(decode_context_, this);
  AddHold();
  StartCall();
  return true;
}

Relay::~Relay() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;  // No batch starts from here on.
  }
  worker_context_->TryCancel();  // No-ops once the calls have ended.
  decode_context_->TryCancel();
  ReleaseDecodeHold();
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return decode_done_; });
  // worker_ is destroyed next and waits for its call's end.
}

void Relay::ReleaseDecodeHold() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::exchange(hold_released_, true)) return;
  }
  RemoveHold();
}

Relay::Outcome Relay::Wait() {
  bool decode_failed;
  {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [this] { return stopped_; });
    decode_failed = decode_failed_;
  }
  if (decode_failed) {
    // A broken decode stream leaves nobody to relay the worker's tokens: stop generating.
    worker_context_->TryCancel();
  } else {
    decode_context_->TryCancel();  // The decode stream has served its purpose.
  }
  // No Pump starts an operation on the decode stream after stopped_: gRPC may end it now (the
  // destructor waits for that).
  ReleaseDecodeHold();
  return {worker_.Finish(), decode_failed};
}

void Relay::Pump() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (stopped_ || in_flight_) return;
    switch (worker_.Take(&batch_, max_batch_)) {
      case WorkerStream::Took::kWaiting:
        return;
      case WorkerStream::Took::kEnded:
        stopped_ = true;
        changed_.notify_all();
        return;
      case WorkerStream::Took::kBatch:
        break;
    }
    // Keeps the decode stream alive until the operations below have started, whatever stops
    // the relay meanwhile (the destructor may release the relay's own hold at any time).
    AddHold();
    in_flight_ = true;
    batch_ops_ = 2;  // The write and the read below.
    continue_ = false;
    if (first_) {
      request_ = start_;
      first_ = false;
    } else {
      request_.Clear();
    }
    request_.mutable_ids()->CopyFrom(batch_.token_ids());
    request_.set_finish(batch_.finish_reason() != v1::FINISH_REASON_UNSPECIFIED);
  }
  // Outside the lock: gRPC may run a reaction on this thread.
  StartWrite(&request_);
  StartRead(&response_);
  RemoveHold();
}

bool Relay::BatchOpDoneLocked() {
  if (--batch_ops_ > 0) return false;
  in_flight_ = false;
  return true;
}

void Relay::OnWriteDone(bool /*ok: a failed write fails the read too*/) {
  bool next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    next = BatchOpDoneLocked() && continue_ && !stopped_;
  }
  if (next) Pump();
}

void Relay::OnReadDone(bool ok) {
  if (!ok) {
    std::lock_guard<std::mutex> lock(mu_);
    BatchOpDoneLocked();
    if (!stopped_) {
      stopped_ = true;
      decode_failed_ = true;
      changed_.notify_all();
    }
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) {  // The destructor is cancelling: nobody waits for the text any more.
      BatchOpDoneLocked();
      return;
    }
  }
  // batch_ and response_ stay ours until the batch is over.
  const bool go_on = handler_(batch_, response_.text());
  const bool last = batch_.finish_reason() != v1::FINISH_REASON_UNSPECIFIED;
  // Stopped early (a stop string) or the client is gone: stop generating.
  if (!go_on && !last) worker_context_->TryCancel();
  bool next;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!go_on || last) {
      stopped_ = true;
      changed_.notify_all();
    }
    continue_ = !stopped_;
    next = BatchOpDoneLocked() && continue_;
  }
  if (next) Pump();
}

void Relay::OnDone(const grpc::Status& /*status: a failure shows in OnReadDone*/) {
  // Only once the relay has stopped: the hold keeps the stream open until then.
  std::lock_guard<std::mutex> lock(mu_);
  decode_done_ = true;
  // Under the lock: once it is released the destructor may run.
  changed_.notify_all();
}

}  // namespace sllm::gateway
