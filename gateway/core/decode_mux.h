// Every request's incremental detokenization over one DecodeStreams call to the tokenizer
// service. A request's relay opens a Sequence and sends it one step at a time (a batch of ids;
// its text comes back in a callback). One message is in flight at a time: steps sent
// meanwhile wait and go together in the next one, so under load one round trip carries the
// tokens of many requests, while at low load a step leaves at once, as it would on a stream of
// its own. (A stream per request cost the gateway and the tokenizer a write, a read and their
// thread wake-ups per token each.)
//
// When the stream breaks (the tokenizer restarted, the connection died), every sequence on it
// fails; the next Open starts a new stream. When the tokenizer drains (its answers say so), new
// sequences go to a new stream and the old one is half-closed once its sequences have ended,
// so a rolling restart of the tokenizer loses no request; a stream left without sequences for
// `idle_close` is half-closed too (a draining tokenizer then has no call to wait for).
#ifndef SLLM_GATEWAY_CORE_DECODE_MUX_H_
#define SLLM_GATEWAY_CORE_DECODE_MUX_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "sllm/v1/tokenizer.grpc.pb.h"

namespace sllm::gateway {

class DecodeMux {
 public:
  // A step's text, or why it failed (the sequence is then closed). Runs once, on a gRPC
  // thread, with no lock held: it may send the sequence's next step. Must not block.
  using Done = std::function<void(absl::StatusOr<v1::DecodeStreamResponse>)>;

  class Connection;

  // One sequence's decoding on the stream.
  class Sequence {
   public:
    ~Sequence();  // Close().
    Sequence(const Sequence&) = delete;
    Sequence& operator=(const Sequence&) = delete;

    // Sends the next step, `request` as in DecodeStream (`start` in the first step only).
    // At most one step is in flight. When the step cannot be sent (the stream is broken, the
    // sequence closed, a step still in flight) the error comes back here and `done` never runs.
    absl::Status Send(v1::DecodeStreamRequest request, Done done);

    // Closes the sequence: no `done` runs after this returns (one running on another thread is
    // waited for), and the tokenizer drops what it holds for the sequence. Idempotent.
    void Close();

   private:
    friend class DecodeMux;
    Sequence(std::shared_ptr<Connection> connection, uint64_t id);

    const std::shared_ptr<Connection> connection_;
    const uint64_t id_;
  };

  // While one lives on a thread, the steps that thread sends wait, and leave together (one
  // message per stream) when it ends: a worker message that carries many requests' tokens
  // then makes one round trip to the tokenizer rather than one for its first request and one
  // for the rest. Scopes nest (the outermost sends).
  class BatchScope {
   public:
    BatchScope();
    ~BatchScope();
    BatchScope(const BatchScope&) = delete;
    BatchScope& operator=(const BatchScope&) = delete;

   private:
    bool outermost_;
  };

  // Decodes through `stub`'s service; the stub must outlive this object.
  explicit DecodeMux(v1::TokenizerService::Stub& stub,
                     absl::Duration idle_close = absl::Seconds(1));
  // Ends the streams and waits until gRPC is done with them. A Sequence that outlives the mux
  // fails its steps.
  ~DecodeMux();
  DecodeMux(const DecodeMux&) = delete;
  DecodeMux& operator=(const DecodeMux&) = delete;

  // A new sequence, on the current stream (a new one when it is broken, draining or closed,
  // or none is open yet).
  std::unique_ptr<Sequence> Open();

 private:
  v1::TokenizerService::Stub& stub_;
  const absl::Duration idle_close_;
  std::atomic<uint64_t> next_id_{1};
  std::mutex mu_;
  std::shared_ptr<Connection> current_;  // Guarded by mu_.
  // Every stream gRPC is not yet done with, the current one included; guarded by mu_.
  std::vector<std::shared_ptr<Connection>> connections_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_DECODE_MUX_H_
