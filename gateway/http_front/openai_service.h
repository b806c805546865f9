// The OpenAI-compatible HTTP API over the gateway pipeline:
//   POST /v1/chat/completions, /v1/completions, /v1/responses  (JSON, or SSE when "stream")
//   GET  /v1/models, /v1/models/{id}
//   GET  /health (the process is up), /ready (it can serve: not draining, a model is served)
// With API keys, every /v1/ route needs "Authorization: Bearer <key>" (401 otherwise) and counts
// against the key's rate and in-flight limits (429 + Retry-After); /health and /ready stay open
// for probes.
// Errors use the one mapping table (error_mapping.h) and OpenAI's error body. A generation's
// pipeline starts from the I/O thread (Pipeline::Start: nothing blocks) once its body is parsed
// there, or from a thread of its own (ThreadCache) for a body too large to parse there. A
// client that disconnects cancels its request on every hop; a request's deadline is the
// server's request timeout or the client's `X-Request-Timeout` / `X-Stainless-Timeout` header
// (seconds), whichever is shorter, and ends in 504.
#ifndef SLLM_GATEWAY_HTTP_FRONT_OPENAI_SERVICE_H_
#define SLLM_GATEWAY_HTTP_FRONT_OPENAI_SERVICE_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "gateway/auth/api_keys.h"
#include "gateway/core/gateway_metrics.h"
#include "gateway/core/pipeline.h"
#include "gateway/http/http_server.h"
#include "gateway/http_front/openai_request.h"
#include "gateway/core/thread_cache.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sllm::gateway {

struct OpenAiServiceOptions {
  // Longest a request may take; clients may ask for less.
  absl::Duration request_timeout = absl::Minutes(10);
};

class OpenAiService {
 public:
  // `ready` says whether the gateway is ready (not draining); `registry` gets
  // sllm_http_requests_total{route,status} and sllm_http_request_latency_seconds{route}.
  OpenAiService(Pipeline& pipeline, GatewayMetrics& metrics, prometheus::Registry& registry,
                std::function<bool()> ready, OpenAiServiceOptions options = {},
                ApiKeyAuth* auth = nullptr);
  ~OpenAiService();  // Waits for the generations in progress.

  // The HttpServer handler.
  void Handle(std::shared_ptr<http::HttpExchange> exchange);

  // Generations in progress.
  int in_flight() const;

 private:
  class Reply;
  struct Generation;

  // Bodies up to this size are parsed on the I/O thread.
  static constexpr size_t kParseInlineBytes = 64 << 10;

  void Generate(std::shared_ptr<http::HttpExchange> exchange, const std::string& route,
                OpenAiApi api);
  // Parses the request and starts its pipeline; counted in running_ until Ended().
  void StartGeneration(std::shared_ptr<http::HttpExchange> exchange, std::shared_ptr<Reply> reply,
                       OpenAiApi api);
  // The pipeline's sink: sends chunk `c` as the request asked (one JSON body, or SSE events).
  static bool Stream(Generation& g, const v1::GenerateStreamResponse& c);
  // The pipeline's result: ends the reply.
  void Finish(Generation& g, absl::Status st);
  // A generation is over.
  void Ended();
  // The request's API-key lease; on refusal answers it (401 / 429) and returns nullopt.
  std::optional<ApiKeyAuth::Lease> Authorize(http::HttpExchange& exchange, Reply& reply);
  void ListModels(http::HttpExchange& exchange, Reply& reply, std::string_view id);
  // The request's deadline: the server's request timeout, shortened by X-Request-Timeout, and
  // by X-Stainless-Timeout (the OpenAI SDKs' timeout) unless the reply is a stream.
  absl::Time Deadline(const http::HttpRequest& request, bool stream) const;
  std::string NextId();

  Pipeline& pipeline_;
  GatewayMetrics& metrics_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  const std::function<bool()> ready_;
  const OpenAiServiceOptions options_;
  ApiKeyAuth* const auth_;
  const uint64_t id_seed_;
  std::atomic<uint64_t> next_id_{1};

  mutable std::mutex mu_;
  std::condition_variable idle_;
  int running_ = 0;  // Guarded by mu_: generations running.
  // Parses large bodies and starts their generations. Last: destroyed first, waiting for its
  // tasks, which use the members above.
  ThreadCache threads_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_HTTP_FRONT_OPENAI_SERVICE_H_
