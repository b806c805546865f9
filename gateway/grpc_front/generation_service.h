// The public gRPC API (sllm.v1.Generation): a thin edge over the gateway pipeline. Unary calls
// use the sync API (each runs on a server thread); the streaming ones use the callback API, so
// that the relay's callbacks write their chunks without a thread hand-off per token (the
// pipeline starts from the handler: Pipeline::Start). Outgoing calls inherit each call's
// deadline and cancellation.
#ifndef SLLM_GATEWAY_GRPC_FRONT_GENERATION_SERVICE_H_
#define SLLM_GATEWAY_GRPC_FRONT_GENERATION_SERVICE_H_

#include <atomic>
#include <optional>
#include <utility>

#include "absl/time/time.h"
#include "gateway/auth/api_keys.h"
#include "gateway/core/pipeline.h"
#include "services/common/metrics.h"
#include "sllm/v1/generation.grpc.pb.h"

namespace sllm::gateway {

class GenerationService final : public v1::Generation::Service {
 public:
  // `gateway_metrics` is shared with the HTTP front. With `auth` (and keys in it) every RPC
  // needs metadata "authorization: Bearer <key>" and counts against the key's limits.
  GenerationService(Pipeline& pipeline, prometheus::Registry& registry,
                    GatewayMetrics& gateway_metrics, ApiKeyAuth* auth = nullptr);

  grpc::Status Generate(grpc::ServerContext* ctx, const v1::GenerateRequest* request,
                        v1::GenerateResponse* response) override;
  grpc::Status Chat(grpc::ServerContext* ctx, const v1::ChatRequest* request,
                    v1::GenerateResponse* response) override;
  grpc::Status ListModels(grpc::ServerContext* ctx, const v1::ListModelsRequest* request,
                          v1::ListModelsResponse* response) override;
  grpc::Status Tokenize(grpc::ServerContext* ctx, const v1::TokenizeRequest* request,
                        v1::TokenizeResponse* response) override;
  grpc::Status CountTokens(grpc::ServerContext* ctx, const v1::CountTokensRequest* request,
                           v1::CountTokensResponse* response) override;

 private:
  class StreamCall;

  // The RPCs that take a request with strings are served over raw bytes parsed by
  // ParseNamingErrors (proto/named_parse_errors.h): unary ones as streamed unary, the
  // server-streaming ones (GenerateStream, ChatStream) as callback methods with a raw request.
  // Invalid UTF-8 in a string field is then INVALID_ARGUMENT naming the field (gRPC's sync
  // unary handler parses as MessageLite and answers an empty INTERNAL), and a refused request
  // counts in sllm_rpc_requests_total like every other refusal (gRPC would refuse it before
  // any handler runs).
  template <class Request, class Response>
  void ParseWithNamedErrors(const char* method,
                            grpc::Status (GenerationService::*rpc)(grpc::ServerContext*,
                                                                   const Request*, Response*));
  // Serves `method` with StreamCall; `from` turns its request into the pipeline's.
  template <class Request>
  void ServeStream(const char* method, PipelineRequest (GenerationService::*from)(const Request&));
  // Parses `bytes` (null: no request came), the request of a call of `method` that arrived at
  // `start`; a refusal is recorded.
  template <class Request>
  grpc::Status ParseRequest(const char* method, absl::Time start, grpc::ByteBuffer* bytes,
                            Request& request);
  // Reads and parses the one request of a call of `method`; a refusal is recorded.
  template <class Request>
  grpc::Status ReadRequest(const char* method,
                           grpc::internal::ReaderInterface<grpc::ByteBuffer>& stream,
                           Request& request);
  // Encodes text or a conversation for a served model; also returns its context length.
  absl::StatusOr<std::pair<v1::EncodeResponse, uint32_t>> EncodeFor(
      grpc::ServerContext* ctx, const std::string& model, const std::string* text,
      const v1::ChatInput* chat, std::optional<bool> add_special_tokens, bool return_offsets);
  // The caller's API-key lease, held for the whole call, or why it is refused.
  absl::StatusOr<ApiKeyAuth::Lease> Authorize(grpc::ServerContextBase* ctx);
  PipelineRequest FromGenerate(const v1::GenerateRequest& r);
  PipelineRequest FromChat(const v1::ChatRequest& r);
  grpc::Status RunUnary(grpc::ServerContext* ctx, const PipelineRequest& p,
                        v1::GenerateResponse* response, RpcMetrics::Scope scope);

  Pipeline& pipeline_;
  RpcMetrics metrics_;
  GatewayMetrics& gateway_metrics_;
  ApiKeyAuth* const auth_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_GRPC_FRONT_GENERATION_SERVICE_H_
