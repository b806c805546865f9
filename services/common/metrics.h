// Prometheus helpers shared by every service: bucket sets and per-RPC request metrics.
//
//   RpcMetrics rpc_metrics(runner.registry(), "sllm.v1.TokenizerService");
//   grpc::Status Encode(...) {
//     RpcMetrics::Scope scope = rpc_metrics.Start("Encode");
//     ...
//     return scope.Finish(status);   // records code and latency
//   }
//
// Metric names follow vLLM's meanings with an `sllm_` prefix (DESIGN.md §3).
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "grpcpp/support/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sllm {

// `count` bucket bounds: start, start * factor, start * factor^2, ...
std::vector<double> ExponentialBuckets(double start, double factor, int count);

// Request latencies in seconds, 1 ms … 60 s, 1-2.5-5 steps per decade (TTFT, e2e, RPC latency).
std::vector<double> LatencyBuckets();

// Inter-token latencies in seconds, 0.5 ms … 5 s, 1-2-5 steps per decade.
std::vector<double> InterTokenLatencyBuckets();

// Per-RPC metrics of one gRPC service:
//   sllm_rpc_requests_total{service, rpc, code}   counter, code is e.g. "OK", "NOT_FOUND"
//   sllm_rpc_latency_seconds{service, rpc}        histogram over LatencyBuckets()
// Several RpcMetrics (one per service) may share one registry. Thread-safe.
class RpcMetrics {
 public:
  class Scope;

  // Registers the two families in `registry` (or reuses them when already registered).
  // `registry` must outlive this object. `service` is the full service name.
  RpcMetrics(prometheus::Registry& registry, std::string service);

  RpcMetrics(const RpcMetrics&) = delete;
  RpcMetrics& operator=(const RpcMetrics&) = delete;

  // Records one finished call of `rpc`.
  void Record(std::string_view rpc, grpc::StatusCode code, double seconds);

  // Starts timing one call of `rpc`; the returned scope records it when destroyed.
  [[nodiscard]] Scope Start(std::string rpc);

  const std::string& service() const { return service_; }

 private:
  std::string service_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

// Times one RPC from construction and records it once: at Finish(), else on destruction with
// the code given to set_code() (UNKNOWN when never set). Movable so it can live in a callback
// reactor.
class RpcMetrics::Scope {
 public:
  Scope(RpcMetrics* metrics, std::string rpc);
  Scope(Scope&& other) noexcept;
  Scope& operator=(Scope&&) = delete;
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  ~Scope();

  // The status code to record.
  void set_code(grpc::StatusCode code) { code_ = code; }

  // Records the call now with `status`'s code and returns `status`, for
  // `return scope.Finish(status);` or `reactor->Finish(scope.Finish(status));`.
  grpc::Status Finish(grpc::Status status);

  // Drops the record (e.g. the call was handed to another scope).
  void Dismiss() { metrics_ = nullptr; }

 private:
  void RecordOnce();

  RpcMetrics* metrics_;
  std::string rpc_;
  grpc::StatusCode code_ = grpc::StatusCode::UNKNOWN;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace sllm
