#include "services/worker/service/worker_metrics.h"

#include <map>

#include "services/common/metrics.h"

namespace sllm::worker {
namespace {

using Labels = std::map<std::string, std::string>;

// The constant labels of every family: {shard} or none.
Labels ShardLabel(const std::string& shard) {
  return shard.empty() ? Labels{} : Labels{{"shard", shard}};
}

prometheus::Histogram& Hist(prometheus::Registry& r, const std::string& name,
                            const std::string& help, const std::string& model,
                            const std::string& shard,
                            const prometheus::Histogram::BucketBoundaries& buckets) {
  return prometheus::BuildHistogram()
      .Name(name)
      .Help(help)
      .Labels(ShardLabel(shard))
      .Register(r)
      .Add({{"model", model}}, buckets);
}

prometheus::Gauge& Gauge(prometheus::Registry& r, const std::string& name, const std::string& help,
                         const std::string& model, const std::string& shard) {
  return prometheus::BuildGauge()
      .Name(name)
      .Help(help)
      .Labels(ShardLabel(shard))
      .Register(r)
      .Add({{"model", model}});
}

prometheus::Counter& Count(prometheus::Registry& r, const std::string& name,
                           const std::string& help, const std::string& model,
                           const std::string& shard) {
  return prometheus::BuildCounter()
      .Name(name)
      .Help(help)
      .Labels(ShardLabel(shard))
      .Register(r)
      .Add({{"model", model}});
}

}  // namespace

WorkerMetrics::WorkerMetrics(prometheus::Registry& r, const std::string& m, const std::string& s)
    : ttft(Hist(r, "sllm_time_to_first_token_seconds",
                "Request received to first token sampled, at the worker", m, s, LatencyBuckets())),
      itl(Hist(r, "sllm_inter_token_latency_seconds", "Time between consecutive tokens", m, s,
               InterTokenLatencyBuckets())),
      e2e(Hist(r, "sllm_e2e_request_latency_seconds", "Request received to last token", m, s,
               LatencyBuckets())),
      queue_time(Hist(r, "sllm_request_queue_time_seconds",
                      "Request received to first scheduled in a step", m, s, LatencyBuckets())),
      step_duration(Hist(r, "sllm_engine_step_duration_seconds", "Duration of one model step", m,
                         s, InterTokenLatencyBuckets())),
      batch_size(Hist(r, "sllm_engine_batch_size", "Sequences per model step", m, s,
                      {1, 2, 4, 8, 16, 32, 64, 128, 256})),
      running(Gauge(r, "sllm_requests_running", "Sequences in the running batch", m, s)),
      waiting(Gauge(r, "sllm_requests_waiting", "Sequences waiting for a batch slot or KV blocks",
                    m, s)),
      kv_usage(Gauge(r, "sllm_kv_cache_usage_ratio", "Fraction of KV-cache blocks in use", m, s)),
      prompt_tokens(
          Count(r, "sllm_prompt_tokens_total", "Prompt tokens of finished requests", m, s)),
      generation_tokens(Count(r, "sllm_generation_tokens_total", "Tokens generated", m, s)),
      cached_tokens(Count(r, "sllm_cached_prompt_tokens_total",
                          "Prompt tokens served from the prefix cache", m, s)),
      prefix_hits(Count(r, "sllm_prefix_cache_hits_total", "KV blocks reused from the prefix cache",
                        m, s)),
      prefix_queries(Count(r, "sllm_prefix_cache_queries_total",
                           "Full prompt blocks looked up in the prefix cache", m, s)),
      requests(prometheus::BuildCounter()
                   .Name("sllm_requests_total")
                   .Help("Finished requests by outcome")
                   .Labels(ShardLabel(s))
                   .Register(r)),
      model(m) {}

}  // namespace sllm::worker
