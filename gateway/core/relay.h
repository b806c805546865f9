// One request's relay from a worker shard to its client, driven by gRPC's callbacks: each
// batch of token ids that arrives from the worker goes to the tokenizer service's
// DecodeStream as soon as the previous batch's text is back, and each batch's text goes to the
// handler on the thread that received it. No thread waits per token: the relay costs the
// gateway the gRPC reads and writes and nothing else (a thread hand-off per token doubled the
// gateway's CPU per token on small models).
//
// Batches: every worker message that arrived while the previous batch was being decoded, up
// to `max_batch`, merged (WorkerStream::Take). With `max_batch` 1 every batch is one message.
#ifndef SLLM_GATEWAY_CORE_RELAY_H_
#define SLLM_GATEWAY_CORE_RELAY_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

#include "gateway/core/worker_stream.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/client_callback.h"
#include "sllm/v1/tokenizer.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway {

class Relay final
    : public grpc::ClientBidiReactor<v1::DecodeStreamRequest, v1::DecodeStreamResponse> {
 public:
  // Runs on a gRPC thread, one call at a time, in order: the batch (merged worker messages)
  // and its text. Returns false to stop the relay (the request is finished, or its client is
  // gone); the worker call is then cancelled. Must not block.
  using BatchHandler =
      std::function<bool(const v1::WorkerGenerateResponse& batch, const std::string& text)>;

  // Starts the worker's Generate call and the DecodeStream call. `start` opens the decode
  // stream (its fields go with the first batch). The contexts must outlive this object.
  Relay(v1::WorkerService::Stub& worker, grpc::ClientContext* worker_context,
        const v1::WorkerGenerateRequest& request, v1::TokenizerService::Stub& tokenizer,
        grpc::ClientContext* decode_context, v1::DecodeStreamRequest start, size_t max_batch,
        BatchHandler handler);
  // Cancels both calls if still running and waits until gRPC is done with them.
  ~Relay() override;

  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  struct Outcome {
    grpc::Status worker;   // The worker call's status (CANCELLED after the handler stopped it).
    bool decode_failed;    // The decode stream broke before the relay was done.
  };
  // Waits until the relay has stopped (the handler returned false, the worker stream ended and
  // every batch was handled, or the decode stream broke), then for the worker call's end. Once.
  Outcome Wait();

  // grpc::ClientBidiReactor (the decode stream).
  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  // Sends the next batch to the decode stream when none is in flight and one has arrived;
  // stops when the worker stream has ended and nothing is left.
  void Pump();
  // Opens the decode stream (from the member initializers: before worker_ starts), with a
  // hold: gRPC does not end it (OnDone) while a Pump may be about to start a write on it.
  bool StartDecode(v1::TokenizerService::Stub& tokenizer);
  // A batch's write or read is done; `mu_` held. True when both are: the batch is over.
  bool BatchOpDoneLocked();
  // Gives back StartDecode's hold once the relay has stopped; `mu_` not held.
  void ReleaseDecodeHold();

  grpc::ClientContext* const worker_context_;
  grpc::ClientContext* const decode_context_;
  const size_t max_batch_;
  const BatchHandler handler_;
  v1::DecodeStreamRequest start_;
  v1::DecodeStreamRequest request_;    // The decode write in flight.
  v1::DecodeStreamResponse response_;  // The decode read in flight.
  v1::WorkerGenerateResponse batch_;   // The batch being decoded.

  std::mutex mu_;
  std::condition_variable changed_;
  bool in_flight_ = false;      // Guarded by mu_: a batch is being decoded or handled.
  int batch_ops_ = 0;           // Guarded by mu_: the batch's write and read still running.
  bool continue_ = false;       // Guarded by mu_: the handler asked for the next batch.
  bool first_ = true;           // Guarded by mu_: no batch was sent yet.
  bool stopped_ = false;        // Guarded by mu_.
  bool decode_failed_ = false;  // Guarded by mu_.
  bool hold_released_ = false;  // Guarded by mu_.
  bool decode_done_ = false;    // Guarded by mu_: OnDone of the decode stream ran.

  const bool decode_started_;
  // Last: its callbacks (Pump) use the members above and the decode stream, so it starts after
  // them and is destroyed (waiting for its call to end) first.
  WorkerStream worker_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_RELAY_H_
