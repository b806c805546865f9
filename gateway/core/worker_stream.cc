#include "gateway/core/worker_stream.h"

#include <utility>

#include "glog/logging.h"
#include "proto/worker_response_merge.h"

namespace sllm::gateway {

WorkerStream::WorkerStream(v1::WorkerService::Stub& stub, grpc::ClientContext* context,
                           const v1::WorkerGenerateRequest& request,
                           std::function<void()> on_arrival)
    : context_(context), on_arrival_(std::move(on_arrival)) {
  stub.async()->Generate(context, &request, this);
  StartRead(&incoming_);
  StartCall();
}

WorkerStream::~WorkerStream() {
  context_->TryCancel();  // A no-op once the call has ended.
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return done_; });
}

WorkerStream::Took WorkerStream::Take(v1::WorkerGenerateResponse* out, size_t max_messages) {
  CHECK_GE(max_messages, 1u);
  out->Clear();
  std::lock_guard<std::mutex> lock(mu_);
  if (arrived_.empty()) return reads_done_ ? Took::kEnded : Took::kWaiting;
  *out = std::move(arrived_.front());
  arrived_.pop_front();
  for (size_t n = 1; n < max_messages && !arrived_.empty(); ++n) {
    AppendWorkerResponse(arrived_.front(), out);
    arrived_.pop_front();
  }
  return Took::kBatch;
}

grpc::Status WorkerStream::Finish() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return done_; });
  return status_;
}

void WorkerStream::OnReadDone(bool ok) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ok) {
      arrived_.push_back(std::move(incoming_));
    } else {
      reads_done_ = true;
    }
  }
  if (!ok) return;  // OnDone follows, and tells on_arrival_ that the stream has ended.
  // The message goes on before the next read is started: starting it took about 50 us, on
  // the first token's way to the client.
  if (on_arrival_) on_arrival_();
  incoming_.Clear();
  StartRead(&incoming_);
}

bool WorkerStream::Interrupted() {
  std::lock_guard<std::mutex> lock(mu_);
  return ended_ && (status_.error_code() == grpc::StatusCode::CANCELLED ||
                    status_.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
}

void WorkerStream::OnDone(const grpc::Status& status) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reads_done_ = true;
    ended_ = true;
    status_ = status;
  }
  // Before done_: the destructor waits for it, so this object is alive here.
  if (on_arrival_) on_arrival_();
  std::lock_guard<std::mutex> lock(mu_);
  done_ = true;
  // Under the lock: once it is released the destructor may run.
  changed_.notify_all();
}

}  // namespace sllm::gateway
