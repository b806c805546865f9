// A worker shard's Generate stream, read ahead. gRPC's callback API reads each message as it
// arrives, whatever the consumer is doing, and the consumer takes every message that has
// arrived since it last looked, merged into one. A request's relay (detokenize, match stop
// strings, write to the client) then runs once per batch of tokens rather than once per token
// when it falls behind the worker, so a loaded gateway spends less per token instead of
// building a backlog; when it keeps up, each batch is one token and nothing waits longer.
// Reading ahead does not slow the worker down for a slow client: what waits is held here,
// at most the request's max_new_tokens messages.
#ifndef SLLM_GATEWAY_CORE_WORKER_STREAM_H_
#define SLLM_GATEWAY_CORE_WORKER_STREAM_H_

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>

#include "gateway/core/worker_call.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "grpcpp/support/status.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway {

class WorkerStream final : public WorkerCall,
                           public grpc::ClientReadReactor<v1::WorkerGenerateResponse> {
 public:
  // Starts the call; `context` must outlive this object. `on_arrival`, when given, runs on a
  // gRPC thread after each message arrives and once when the stream has ended (with no lock
  // held: it may call Take).
  WorkerStream(v1::WorkerService::Stub& stub, grpc::ClientContext* context,
               const v1::WorkerGenerateRequest& request,
               std::function<void()> on_arrival = nullptr);
  // Cancels the call if it is still running and waits until gRPC is done with it.
  ~WorkerStream() override;

  WorkerStream(const WorkerStream&) = delete;
  WorkerStream& operator=(const WorkerStream&) = delete;

  // WorkerCall. The context carries the request's deadline; Cancel cancels it.
  Took Take(v1::WorkerGenerateResponse* out, size_t max_messages) override;
  grpc::Status Finish() override;
  bool Interrupted() override;
  void Cancel() override;

  // grpc::ClientReadReactor.
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  grpc::ClientContext* const context_;
  const std::function<void()> on_arrival_;
  v1::WorkerGenerateResponse incoming_;  // Owned by the read in flight.
  std::mutex mu_;
  std::condition_variable changed_;  // Signals done_.
  std::deque<v1::WorkerGenerateResponse> arrived_;  // Guarded by mu_.
  bool reads_done_ = false;                          // Guarded by mu_.
  bool ended_ = false;                               // Guarded by mu_: status_ is set.
  bool done_ = false;                                // Guarded by mu_: OnDone is through.
  grpc::Status status_;                              // Guarded by mu_; set with ended_.
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_WORKER_STREAM_H_
