// One generation request through the cluster: validate, tokenize (chat template, then
// encode) on the tokenizer service, route to a worker shard and stream its token ids,
// detokenize them on the tokenizer service (one DecodeStreams call carries every request's
// sequence), apply stop strings, and emit text chunks. A request that has produced no token
// yet is retried on another shard when its shard fails. Run blocks its caller for the whole
// request, but the tokens themselves are relayed by gRPC's callbacks (Relay), with no thread
// hand-off per token.
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

  // Runs one request; `call`'s deadline and cancellation reach every outgoing call. Errors
  // before the first chunk come back as a status; errors after it end the stream with an
  // ERROR chunk and are returned too.
  absl::Status Run(const PipelineRequest& request, CallControl& call, const ChunkSink& sink);

  // Tokenize / CountTokens passthrough.
  absl::StatusOr<v1::EncodeResponse> Encode(const v1::EncodeRequest& request, CallControl& call);

  ShardPool& shards() { return shards_; }
  const GatewayLimits& limits() const { return limits_; }

 private:
  std::unique_ptr<v1::TokenizerService::Stub> tokenizer_;
  // Every request's detokenization, over one stream to the tokenizer service.
  DecodeMux decoder_;
  ShardPool& shards_;
  const GatewayLimits limits_;
  GatewayMetrics* const metrics_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_PIPELINE_H_
