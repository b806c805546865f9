// One request's relay from a worker shard to its client, driven by gRPC's callbacks: each
// batch of token ids that arrives from the worker goes to the tokenizer service (a sequence on
// the gateway's DecodeMux) as soon as the previous batch's text is back, and each batch's text
// goes to the handler on the thread that received it. No thread waits per token: the relay
// costs the gateway the gRPC reads and writes and nothing else (a thread hand-off per token
// doubled the gateway's CPU per token on small models).
//
// Batches: every worker message that arrived while the previous batch was being decoded, up
// to `max_batch`, merged (WorkerStream::Take). With `max_batch` 1 every batch is one message.
#ifndef SLLM_GATEWAY_CORE_RELAY_H_
#define SLLM_GATEWAY_CORE_RELAY_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gateway/core/decode_mux.h"
#include "gateway/core/worker_call.h"
#include "grpcpp/client_context.h"
#include "sllm/v1/tokenizer.pb.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway {

class Relay final {
 public:
  // Runs on a gRPC thread, one call at a time, in order: the batch (merged worker messages)
  // and its text. Returns false to stop the relay (the request is finished, or its client is
  // gone); the worker call is then cancelled. Must not block.
  using BatchHandler =
      std::function<bool(const v1::WorkerGenerateResponse& batch, const std::string& text)>;

  // Starts the generation on a worker shard, with `on_arrival` as its arrival callback.
  using OpenCall =
      std::function<std::unique_ptr<WorkerCall>(std::function<void()> on_arrival)>;
  // A Generate call of its own (WorkerStream); the arguments must outlive the relay.
  static OpenCall GenerateCall(v1::WorkerService::Stub& worker,
                               grpc::ClientContext* worker_context,
                               const v1::WorkerGenerateRequest& request);

  // Opens a sequence on `decoder` and starts the generation; `start` goes with the first
  // batch. The decoder must outlive this object.
  Relay(const OpenCall& open, DecodeMux& decoder, v1::DecodeStreamStart start,
        size_t max_batch, BatchHandler handler);
  // Cancels the generation if still running, closes the sequence, and waits until no
  // callback of the worker call runs.
  ~Relay();

  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  struct Outcome {
    grpc::Status worker;  // The worker call's status (CANCELLED after the handler stopped it).
    absl::Status decode;  // Why decoding failed before the relay was done, else OK.
  };
  // Waits until the relay has stopped (the handler returned false, the worker stream ended and
  // every batch was handled, the request was interrupted or its worker call was cancelled or
  // timed out, or decoding failed) or `deadline` passed, then for the worker call's end (it
  // is cancelled first when nobody relays its tokens any more). Never returns while the
  // handler runs. Once.
  Outcome Wait(absl::Time deadline = absl::InfiniteFuture());

  // The request is over (its client went away): stops the relay without waiting for text still
  // on its way. Thread-safe and does not block; a running handler finishes first (Wait returns
  // after it).
  void Interrupt();

 private:
  // Sends the next batch to the decoder when none is in flight and one has arrived; stops when
  // the worker stream has ended and nothing is left, or was interrupted.
  void Pump();
  // A batch's text (or why decoding failed) is back.
  void OnText(absl::StatusOr<v1::DecodeStreamResponse> text);
  // Stops the relay once the handler is not running; `lock` holds `mu_`.
  void StopLocked(std::unique_lock<std::mutex>& lock);
  // Stops the relay because decoding failed; `mu_` held.
  void FailDecodeLocked(const absl::Status& why);

  const size_t max_batch_;
  const BatchHandler handler_;
  const v1::DecodeStreamStart start_;
  const std::unique_ptr<DecodeMux::Sequence> decode_;
  v1::WorkerGenerateResponse batch_;  // The batch being decoded.

  std::mutex mu_;
  std::condition_variable changed_;
  bool in_flight_ = false;     // Guarded by mu_: a batch is being decoded or handled.
  bool handling_ = false;      // Guarded by mu_: the handler runs.
  bool interrupted_ = false;   // Guarded by mu_: Interrupt() or the deadline.
  bool first_ = true;          // Guarded by mu_: no batch was sent yet.
  bool stopped_ = false;       // Guarded by mu_.
  absl::Status decode_status_;  // Guarded by mu_.

  // Last: its callbacks (Pump) use the members above, so it starts after them and is
  // destroyed (waiting for its callbacks to be over) first. Set under mu_ once started.
  std::unique_ptr<WorkerCall> worker_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_RELAY_H_
