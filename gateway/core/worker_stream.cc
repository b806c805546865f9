#include "gateway/core/worker_stream.h"

#include <chrono>
#include <utility>

#include "glog/logging.h"

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
  std::lock_guard<std::mutex> lock(mu_);
  return TakeArrived(arrived_, reads_done_, out, max_messages);
}

void WorkerStream::Cancel() {
  // Past its deadline the call ends DEADLINE_EXCEEDED by itself: cancelling it now could make
  // that CANCELLED.
  if (context_->deadline() <= std::chrono::system_clock::now()) return;
  context_->TryCancel();
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
