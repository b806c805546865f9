#include "gateway/core/call_control.h"

#include "grpcpp/support/time.h"

namespace sllm::gateway {

CallControl::CallControl(absl::Time deadline) : deadline_(deadline) {}

namespace {

absl::Time DeadlineOf(const grpc::ServerContextBase& parent) {
  const auto d = parent.deadline();
  if (d == std::chrono::system_clock::time_point::max()) return absl::InfiniteFuture();
  return absl::FromChrono(d);
}

}  // namespace

CallControl::CallControl(const grpc::ServerContextBase& parent)
    : parent_(&parent), deadline_(DeadlineOf(parent)) {}

grpc::ClientContext* CallControl::NewContext() {
  std::unique_ptr<grpc::ClientContext> ctx;
  if (parent_ != nullptr) {
    ctx = grpc::ClientContext::FromServerContext(*parent_);
  } else {
    ctx = std::make_unique<grpc::ClientContext>();
    if (deadline_ != absl::InfiniteFuture()) ctx->set_deadline(absl::ToChronoTime(deadline_));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) ctx->TryCancel();
  calls_.push_back(std::move(ctx));
  return calls_.back().get();
}

void CallControl::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) return;
  cancelled_ = true;
  for (auto& ctx : calls_) ctx->TryCancel();
  if (interrupt_) interrupt_();
}

void CallControl::SetInterrupt(std::function<void()> interrupt) {
  std::lock_guard<std::mutex> lock(mu_);
  interrupt_ = std::move(interrupt);
  if (cancelled_ && interrupt_) interrupt_();
}

bool CallControl::cancelled() const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return true;
  }
  // gRPC may cancel the outgoing calls (propagation) before the front hears of it.
  return parent_ != nullptr && parent_->IsCancelled();
}

absl::Status CallControl::Interruption() const {
  // First: gRPC counts a passed deadline as a cancellation too (and the front then calls
  // Cancel), but the request ended because its time was up.
  if (absl::Now() >= deadline_) return absl::DeadlineExceededError("the request's deadline passed");
  const absl::Status cancelled = absl::CancelledError("the client cancelled the request");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return cancelled;
  }
  if (parent_ != nullptr && parent_->IsCancelled()) return cancelled;
  return absl::OkStatus();
}

}  // namespace sllm::gateway
