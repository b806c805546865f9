// The whole gateway process as a library: the shard pool, the pipeline, the gRPC front
// (sllm.v1.Generation, health, reflection, /metrics) and the OpenAI HTTP front, started and
// drained together. sllm-gateway is flag parsing around it; tests run it in-process.
#ifndef SLLM_GATEWAY_SERVER_GATEWAY_SERVER_H_
#define SLLM_GATEWAY_SERVER_GATEWAY_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gateway/auth/api_keys.h"
#include "gateway/core/gateway_metrics.h"
#include "gateway/core/pipeline.h"
#include "gateway/core/shard_pool.h"
#include "gateway/grpc_front/generation_service.h"
#include "gateway/http/http_server.h"
#include "gateway/http_front/openai_service.h"
#include "services/common/server.h"
#include "services/common/tls_credentials.h"

namespace sllm::gateway {

struct GatewayServerOptions {
  ServerOptions grpc;             // gRPC and metrics listeners, drain deadline, signals.
  std::string tokenizer_target;   // The tokenizer service.
  ShardPoolOptions shards;        // Worker shards: a list or a DNS name.
  // How the gateway dials the tokenizer and the shards (replaces shards.security): plaintext,
  // TLS, or mTLS with a client certificate.
  ChannelSecurity upstream;
  GatewayLimits limits;
  http::HttpServerOptions http;   // The OpenAI front (HTTPS with tls_* set); port -1: off.
  OpenAiServiceOptions openai;
  // API keys for both fronts (none: no authentication) and their per-key limits.
  std::vector<ApiKeyEntry> api_keys;
  ApiKeyLimits api_key_limits;
};

class GatewayServer {
 public:
  explicit GatewayServer(GatewayServerOptions options);
  ~GatewayServer();

  // Polls the shards once, then starts both fronts; UNAVAILABLE when a port cannot be bound.
  absl::Status Start();
  // Blocks until Shutdown() or SIGTERM/SIGINT (when handled): readiness turns NOT_SERVING,
  // both fronts stop admitting and drain in-flight streams, both within one drain deadline
  // from the drain's start (so a pod's grace period covers the whole drain).
  void Wait();
  void Shutdown();

  std::string grpc_target() const { return runner_.local_target(); }
  int grpc_port() const { return runner_.port(); }
  int metrics_port() const { return runner_.metrics_port(); }
  int http_port() const { return http_ ? http_->port() : -1; }
  ShardPool& shards() { return shards_; }
  OpenAiService& openai() { return *openai_; }

 private:
  const GatewayServerOptions options_;
  ServiceRunner runner_;
  GatewayMetrics metrics_;
  ShardPool shards_;
  Pipeline pipeline_;
  ApiKeyAuth auth_;
  GenerationService grpc_service_;
  std::unique_ptr<OpenAiService> openai_;
  std::unique_ptr<http::HttpServer> http_;
  bool waited_ = false;
  // When the drain began (absl::ToUnixNanos), set from the runner's drain hook.
  std::atomic<int64_t> drain_started_nanos_{0};
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_SERVER_GATEWAY_SERVER_H_
