#include "services/common/metrics.h"

#include <utility>

#include "services/common/grpc_status.h"

namespace sllm {

std::vector<double> ExponentialBuckets(double start, double factor, int count) {
  std::vector<double> bounds;
  bounds.reserve(count > 0 ? count : 0);
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

std::vector<double> LatencyBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
          0.5,   1.0,    2.5,   5.0,  10.0,  25.0, 60.0};
}

std::vector<double> InterTokenLatencyBuckets() {
  return {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
          0.1,    0.2,   0.5,   1.0,   2.0,  5.0};
}

RpcMetrics::RpcMetrics(prometheus::Registry& registry, std::string service)
    : service_(std::move(service)),
      requests_(prometheus::BuildCounter()
                    .Name("sllm_rpc_requests_total")
                    .Help("gRPC calls handled, by service, method and status code.")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("sllm_rpc_latency_seconds")
                   .Help("gRPC call latency from handler start to completion, in seconds.")
                   .Register(registry)) {}

void RpcMetrics::Record(std::string_view rpc, grpc::StatusCode code, double seconds) {
  const std::string rpc_name(rpc);
  requests_
      .Add({{"service", service_}, {"rpc", rpc_name}, {"code", std::string(GrpcCodeName(code))}})
      .Increment();
  static const std::vector<double>* const kBuckets = new std::vector<double>(LatencyBuckets());
  latency_.Add({{"service", service_}, {"rpc", rpc_name}}, *kBuckets).Observe(seconds);
}

RpcMetrics::Scope RpcMetrics::Start(std::string rpc) { return Scope(this, std::move(rpc)); }

RpcMetrics::Scope::Scope(RpcMetrics* metrics, std::string rpc)
    : metrics_(metrics), rpc_(std::move(rpc)), start_(std::chrono::steady_clock::now()) {}

RpcMetrics::Scope::Scope(Scope&& other) noexcept
    : metrics_(std::exchange(other.metrics_, nullptr)),
      rpc_(std::move(other.rpc_)),
      code_(other.code_),
      start_(other.start_) {}

RpcMetrics::Scope::~Scope() { RecordOnce(); }

grpc::Status RpcMetrics::Scope::Finish(grpc::Status status) {
  code_ = status.error_code();
  RecordOnce();
  return status;
}

void RpcMetrics::Scope::RecordOnce() {
  RpcMetrics* metrics = std::exchange(metrics_, nullptr);
  if (metrics == nullptr) return;
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start_;
  metrics->Record(rpc_, code_, elapsed.count());
}

}  // namespace sllm
