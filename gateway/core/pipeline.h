// One generation request through the cluster: validate, tokenize (chat template, then
// encode) on the tokenizer service, route to a worker shard and stream its token ids,
// detokenize them on the tokenizer service (one DecodeStreams call carries every request's
// sequence), apply stop strings, and emit text chunks. A request that has produced no token
// yet is retried on another shard when its shard fails.
//
// No thread hand-off on the way to the first token: the request's handler sends Encode, the
// tokenizer's answer starts the worker call from gRPC's callback, and the tokens are relayed by
// gRPC's callbacks (Relay). A thread of the pipeline's own, taken while the prompt is encoded,
// waits for the relay's end, to retry or to report.
// Deadlines and cancellation of the incoming call propagate to every outgoing call.
#ifndef SLLM_GATEWAY_CORE_PIPELINE_H_
#define SLLM_GATEWAY_CORE_PIPELINE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gateway/core/call_control.h"
#include "gateway/core/decode_mux.h"
#include "gateway/core/gateway_metrics.h"
#include "gateway/core/shard_pool.h"
#include "gateway/core/thread_cache.h"
#include "gateway/validation/request_validator.h"
#include "grpcpp/grpcpp.h"
#include "sllm/v1/generation.pb.h"
#include "sllm/v1/tokenizer.grpc.pb.h"

namespace sllm::gateway {

// What to generate from: a text prompt, token ids, or a conversation.
struct PipelineRequest {
  std::string request_id;
  std::string model;
  enum class Kind { kText, kIds, kChat } kind = Kind::kText;
  std::string text;
  std::vector<uint32_t> ids;
  v1::ChatInput chat;
  v1::GenerationParams params;
};

// Receives chunks in order, one call at a time; the last has finish_reason set. Returns false
// when the client is gone (the pipeline then cancels the worker). Runs on gRPC's threads (the
// relay's callbacks) or on Run's caller's: it must not block (queue the chunk, do not wait for
// the client to take it).
using ChunkSink = std::function<bool(const v1::GenerateStreamResponse&)>;

class Pipeline {
 public:
  // `metrics` (may be null) records routing decisions and shard failures.
  Pipeline(std::shared_ptr<grpc::Channel> tokenizer, ShardPool& shards, GatewayLimits limits,
           GatewayMetrics* metrics = nullptr);

  // Receives a request's result once, last: errors before the first chunk as a status; errors
  // after it end the stream with an ERROR chunk and come here too.
  using Done = std::function<void(absl::Status)>;

  // Starts one request and returns: `call`'s deadline and cancellation reach every outgoing
  // call. `done` runs on a thread of the pipeline's, or on the caller's when the request is
  // refused before anything started (invalid, or the gateway out of threads). `request`,
  // `call` and `sink` must stay valid until `done` has run.
  void Start(const PipelineRequest& request, CallControl& call, ChunkSink sink, Done done);

  // Start, then waits for the request's end and returns its result.
  absl::Status Run(const PipelineRequest& request, CallControl& call, const ChunkSink& sink);

  // Tokenize / CountTokens passthrough.
  absl::StatusOr<v1::EncodeResponse> Encode(const v1::EncodeRequest& request, CallControl& call);

  ShardPool& shards() { return shards_; }
  const GatewayLimits& limits() const { return limits_; }

 private:
  class Generation;

  std::unique_ptr<v1::TokenizerService::Stub> tokenizer_;
  // Every request's detokenization, over one stream to the tokenizer service.
  DecodeMux decoder_;
  ShardPool& shards_;
  const GatewayLimits limits_;
  GatewayMetrics* const metrics_;
  // Each request's wait for its relay's end. Last: destroyed first, waiting for them.
  ThreadCache waiters_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_PIPELINE_H_
