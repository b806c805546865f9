// One request's generation on a worker shard, as the relay consumes it: the messages that have
// arrived, taken in merged batches, and the call's end. Two kinds: a Generate call of its own
// (WorkerStream) or a sequence on the shard's shared GenerateStreams call (WorkerMux).
#ifndef SLLM_GATEWAY_CORE_WORKER_CALL_H_
#define SLLM_GATEWAY_CORE_WORKER_CALL_H_

#include <cstddef>
#include <deque>

#include "grpcpp/support/status.h"
#include "sllm/v1/worker.pb.h"

namespace sllm::gateway {

class WorkerCall {
 public:
  // Cancels the generation if it still runs, and returns once no arrival callback of it runs
  // or will run.
  virtual ~WorkerCall() = default;

  // Takes up to `max_messages` (≥ 1) of the messages that have arrived, merged in order into
  // `*out`: token ids and logprobs concatenated, step times added up, the finish fields of the
  // last. Does not wait: kBatch when it took messages, kWaiting when none has arrived yet,
  // kEnded when the generation has ended and every message was taken.
  enum class Took { kBatch, kWaiting, kEnded };
  virtual Took Take(v1::WorkerGenerateResponse* out, size_t max_messages) = 0;

  // Waits until the generation has ended and returns its status: OK once the last message
  // (finish_reason set) arrived, the shard's error, CANCELLED after Cancel, DEADLINE_EXCEEDED
  // once the request's deadline has passed.
  virtual grpc::Status Finish() = 0;

  // True once the generation has ended CANCELLED or DEADLINE_EXCEEDED (or the deadline has
  // passed): the request is over, whatever is still on its way for it. Does not wait.
  virtual bool Interrupted() = 0;

  // Stops the generation on the shard; a no-op once it has ended. Does not wait.
  virtual void Cancel() = 0;
};

// WorkerCall::Take over the messages `arrived` of a generation that has `ended` (or not).
WorkerCall::Took TakeArrived(std::deque<v1::WorkerGenerateResponse>& arrived, bool ended,
                             v1::WorkerGenerateResponse* out, size_t max_messages);

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_WORKER_CALL_H_
