// Every request's generation on one worker shard over one GenerateStreams call. A request
// starts a sequence on the call (WorkerMux::Start) and consumes it as a WorkerCall; the shard
// answers with one message per engine step carrying every sequence's new tokens. So a shard
// stepping 16 sequences costs the gateway one read per step rather than 16, and the relays
// those tokens wake send their decode steps to the tokenizer together (a DecodeMux batch).
// (A Generate call per request cost the shard a write, and the gateway a read and a thread
// wake-up, per token.)
//
// When the call breaks (the shard died, the connection dropped), every sequence on it ends
// UNAVAILABLE; the next Start opens a new call. When the shard drains (its messages say so),
// new sequences go to a new call and the old one is half-closed once its sequences have
// ended. Deadlines and cancellation are the gateway's: a sequence ends DEADLINE_EXCEEDED or
// CANCELLED here at once, and the shard is told to drop it.
#ifndef SLLM_GATEWAY_CORE_WORKER_MUX_H_
#define SLLM_GATEWAY_CORE_WORKER_MUX_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/time/time.h"
#include "gateway/core/worker_call.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway {

class WorkerMux {
 public:
  explicit WorkerMux(std::shared_ptr<v1::WorkerService::Stub> stub);
  // Ends the calls and waits until gRPC is done with them; sequences still open end
  // CANCELLED.
  ~WorkerMux();
  WorkerMux(const WorkerMux&) = delete;
  WorkerMux& operator=(const WorkerMux&) = delete;

  // Starts `request` on the current call (a new one when it is broken or draining, or none is
  // open yet). `on_arrival` runs on a gRPC thread after messages for the sequence arrive and
  // once when it has ended, with no lock held (it may call Take). The sequence ends
  // DEADLINE_EXCEEDED once `deadline` has passed and Finish or Cancel is called.
  std::unique_ptr<WorkerCall> Start(const v1::WorkerGenerateRequest& request,
                                    absl::Time deadline, std::function<void()> on_arrival);

  class Connection;
  class Sequence;

 private:
  const std::shared_ptr<v1::WorkerService::Stub> stub_;
  std::mutex mu_;
  uint64_t next_id_ = 1;                 // Guarded by mu_.
  std::shared_ptr<Connection> current_;  // Guarded by mu_.
  // Every call gRPC is not yet done with, the current one included; guarded by mu_.
  std::vector<std::shared_ptr<Connection>> connections_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_WORKER_MUX_H_
