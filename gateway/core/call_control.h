// The caller's side of one request as the pipeline sees it: the deadline and the cancellation
// that every outgoing call made on its behalf must inherit. A gRPC front builds it from the
// incoming ServerContext (gRPC then propagates both); the HTTP front builds it from a timeout
// and calls Cancel() when the client disconnects.
#ifndef SLLM_GATEWAY_CORE_CALL_CONTROL_H_
#define SLLM_GATEWAY_CORE_CALL_CONTROL_H_

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/server_context.h"

namespace sllm::gateway {

class CallControl {
 public:
  // A request with its own deadline (InfiniteFuture: none).
  explicit CallControl(absl::Time deadline = absl::InfiniteFuture());
  // A request that arrived as a gRPC call: `parent` must outlive this object.
  explicit CallControl(const grpc::ServerContextBase& parent);

  CallControl(const CallControl&) = delete;
  CallControl& operator=(const CallControl&) = delete;

  // A context for one outgoing call, owned by this object: it carries the deadline and is
  // cancelled by Cancel() (also when Cancel() came first).
  grpc::ClientContext* NewContext();

  // Cancels every outgoing call, present and future, and runs the interrupt (if set).
  // Thread-safe, idempotent.
  void Cancel();

  // Runs `interrupt` on Cancel() (at once when Cancel() came first), for work the outgoing
  // calls' cancellation does not reach, until replaced; nullptr clears it, and once that
  // returns the old one no longer runs. `interrupt` must not block or call back into this.
  void SetInterrupt(std::function<void()> interrupt);
  // After Cancel(), or once a gRPC parent call is cancelled (or past its deadline).
  bool cancelled() const;
  // Why outgoing calls stop early: CANCELLED after Cancel(), DEADLINE_EXCEEDED once the
  // deadline has passed, else OK.
  absl::Status Interruption() const;

  absl::Time deadline() const { return deadline_; }

 private:
  const grpc::ServerContextBase* const parent_ = nullptr;
  const absl::Time deadline_;
  mutable std::mutex mu_;
  bool cancelled_ = false;                                   // Guarded by mu_.
  std::vector<std::unique_ptr<grpc::ClientContext>> calls_;  // Guarded by mu_.
  std::function<void()> interrupt_;                          // Guarded by mu_.
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_CALL_CONTROL_H_
