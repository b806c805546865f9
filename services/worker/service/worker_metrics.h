// The worker's Prometheus metrics, with the design's names, a `model` label and (when given) a
// `shard` label on every series, so that one Prometheus query can compare shards.
#ifndef SLLM_SERVICES_WORKER_SERVICE_WORKER_METRICS_H_
#define SLLM_SERVICES_WORKER_SERVICE_WORKER_METRICS_H_

#include <string>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace sllm::worker {

class WorkerMetrics {
 public:
  // `shard` (e.g. "0") becomes a constant label of every family; empty: no shard label. All
  // WorkerMetrics on one registry must give the same shard.
  WorkerMetrics(prometheus::Registry& registry, const std::string& model,
                const std::string& shard = "");

  prometheus::Histogram& ttft;            // sllm_time_to_first_token_seconds
  prometheus::Histogram& itl;             // sllm_inter_token_latency_seconds
  prometheus::Histogram& e2e;             // sllm_e2e_request_latency_seconds
  prometheus::Histogram& queue_time;      // sllm_request_queue_time_seconds
  prometheus::Histogram& step_duration;   // sllm_engine_step_duration_seconds
  prometheus::Histogram& batch_size;      // sllm_engine_batch_size
  prometheus::Gauge& running;             // sllm_requests_running
  prometheus::Gauge& waiting;             // sllm_requests_waiting
  prometheus::Gauge& kv_usage;            // sllm_kv_cache_usage_ratio
  prometheus::Counter& prompt_tokens;     // sllm_prompt_tokens_total
  prometheus::Counter& generation_tokens; // sllm_generation_tokens_total
  prometheus::Counter& cached_tokens;     // sllm_cached_prompt_tokens_total
  prometheus::Counter& prefix_hits;       // sllm_prefix_cache_hits_total (blocks)
  prometheus::Counter& prefix_queries;    // sllm_prefix_cache_queries_total (blocks)
  // sllm_requests_total{outcome}: eos, length, stop, cancelled, error, rejected.
  prometheus::Family<prometheus::Counter>& requests;
  const std::string model;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SERVICE_WORKER_METRICS_H_
