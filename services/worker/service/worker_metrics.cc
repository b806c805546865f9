#include "services/worker/service/worker_metrics.h"

#include "services/common/metrics.h"

namespace sllm::worker {
namespace {

prometheus::Histogram& Hist(prometheus::Registry& r, const std::string& name,
                            const std::string& help, const std::string& model,
                            const prometheus::Histogram::BucketBoundaries& buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({{"model", model}},
                                                                            buckets);
}

prometheus::Gauge& Gauge(prometheus::Registry& r, const std::string& name, const std::string& help,
                         const std::string& model) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({{"model", model}});
}

prometheus::Counter& Count(prometheus::Registry& r, const std::string& name,
                           const std::string& help, const std::string& model) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r).Add({{"model", model}});
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& r, const std::string& m)
    : ttft(Hist(r, "sllm_time_to_first_token_seconds",
                "Request received to first token sampled, at the worker", m, LatencyBuckets())),
      itl(Hist(r, "sllm_inter_token_latency_seconds", "Time between consecutive tokens", m,
               InterTokenLatencyBuckets())),
      e2e(Hist(r, "sllm_e2e_request_latency_seconds", "Request received to last token", m,
               LatencyBuckets())),
      queue_time(Hist(r, "sllm_request_queue_time_seconds",
                      "Request received to first scheduled in a step", m, LatencyBuckets())),
      step_duration(Hist(r, "sllm_engine_step_duration_seconds", "Duration of one model step", m,
                         InterTokenLatencyBuckets())),
      batch_size(Hist(r, "sllm_engine_batch_size", "Sequences per model step", m,
                      {1, 2, 4, 8, 16, 32, 64, 128, 256})),
      running(Gauge(r, "sllm_requests_running", "Sequences in the running batch", m)),
      waiting(Gauge(r, "sllm_requests_waiting", "Sequences waiting for a batch slot or KV blocks",
                    m)),
      kv_usage(Gauge(r, "sllm_kv_cache_usage_ratio", "Fraction of KV-cache blocks in use", m)),
      prompt_tokens(Count(r, "sllm_prompt_tokens_total", "Prompt tokens of finished requests", m)),
      generation_tokens(Count(r, "sllm_generation_tokens_total", "Tokens generated", m)),
      cached_tokens(Count(r, "sllm_cached_prompt_tokens_total",
                          "Prompt tokens served from the prefix cache", m)),
      prefix_hits(Count(r, "sllm_prefix_cache_hits_total", "KV blocks reused from the prefix cache",
                        m)),
      prefix_queries(Count(r, "sllm_prefix_cache_queries_total",
                           "Full prompt blocks looked up in the prefix cache", m)),
      requests(prometheus::BuildCounter()
                   .Name("sllm_requests_total")
                   .Help("Finished requests by outcome")
                   .Register(r)),
      model(m) {}

}  // namespace sllm::worker
