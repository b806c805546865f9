// What the gateway measures, shared by its gRPC and HTTP fronts (DESIGN.md §3):
//   sllm_gateway_time_to_first_token_seconds{model,front}  request received -> first text sent
//   sllm_gateway_e2e_request_latency_seconds{model,front}  request received -> last byte sent
//   sllm_gateway_requests_in_flight{front}                 generation requests being served
//   sllm_gateway_routed_requests_total{shard,model}        routing decisions
//   sllm_gateway_shard_failures_total{shard,code}          shard calls that failed
// `front` is "grpc" or "http". Thread-safe.
#ifndef SLLM_GATEWAY_CORE_GATEWAY_METRICS_H_
#define SLLM_GATEWAY_CORE_GATEWAY_METRICS_H_

#include <chrono>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sllm::gateway {

class GatewayMetrics {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);

  // Times one generation request on `front` and counts it in flight until destroyed.
  class Request {
   public:
    Request(GatewayMetrics& metrics, std::string front);
    ~Request();
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;

    void set_model(const std::string& model) { model_ = model; }
    // Call when text (or the first chunk) goes out; only the first call counts.
    void FirstTokenSent();

   private:
    GatewayMetrics& metrics_;
    const std::string front_;
    std::string model_;
    const std::chrono::steady_clock::time_point start_;
    bool first_sent_ = false;
  };

  void Routed(const std::string& shard, const std::string& model);
  void ShardFailed(const std::string& shard, const std::string& code);

 private:
  prometheus::Family<prometheus::Histogram>& ttft_;
  prometheus::Family<prometheus::Histogram>& e2e_;
  prometheus::Family<prometheus::Gauge>& in_flight_;
  prometheus::Family<prometheus::Counter>& routed_;
  prometheus::Family<prometheus::Counter>& shard_failures_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_GATEWAY_METRICS_H_
