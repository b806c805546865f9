#include "gateway/core/gateway_metrics.h"

#include "services/common/metrics.h"

namespace sllm::gateway {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

GatewayMetrics::GatewayMetrics(prometheus::Registry& r)
    : ttft_(prometheus::BuildHistogram()
                .Name("sllm_gateway_time_to_first_token_seconds")
                .Help("Gateway: request received to first text sent to the client")
                .Register(r)),
      e2e_(prometheus::BuildHistogram()
               .Name("sllm_gateway_e2e_request_latency_seconds")
               .Help("Gateway: request received to last byte sent")
               .Register(r)),
      in_flight_(prometheus::BuildGauge()
                     .Name("sllm_gateway_requests_in_flight")
                     .Help("Gateway: generation requests being served")
                     .Register(r)),
      routed_(prometheus::BuildCounter()
                  .Name("sllm_gateway_routed_requests_total")
                  .Help("Gateway: requests routed to each worker shard")
                  .Register(r)),
      shard_failures_(prometheus::BuildCounter()
                          .Name("sllm_gateway_shard_failures_total")
                          .Help("Gateway: calls to a worker shard that failed, by gRPC code")
                          .Register(r)) {
  // Both fronts show up from the start, at 0.
  in_flight_.Add({{"front", "grpc"}});
  in_flight_.Add({{"front", "http"}});
}

GatewayMetrics::Request::Request(GatewayMetrics& metrics, std::string front)
    : metrics_(metrics), front_(std::move(front)), start_(std::chrono::steady_clock::now()) {
  metrics_.in_flight_.Add({{"front", front_}}).Increment();
}

GatewayMetrics::Request::~Request() {
  metrics_.in_flight_.Add({{"front", front_}}).Decrement();
  if (model_.empty()) return;  // Refused before a model was known.
  metrics_.e2e_.Add({{"model", model_}, {"front", front_}}, LatencyBuckets())
      .Observe(SecondsSince(start_));
}

void GatewayMetrics::Request::FirstTokenSent() {
  if (first_sent_ || model_.empty()) return;
  first_sent_ = true;
  metrics_.ttft_.Add({{"model", model_}, {"front", front_}}, LatencyBuckets())
      .Observe(SecondsSince(start_));
}

void GatewayMetrics::Routed(const std::string& shard, const std::string& model) {
  routed_.Add({{"shard", shard}, {"model", model}}).Increment();
}

void GatewayMetrics::ShardFailed(const std::string& shard, const std::string& code) {
  shard_failures_.Add({{"shard", shard}, {"code", code}}).Increment();
}

}  // namespace sllm::gateway
