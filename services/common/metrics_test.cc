#include "services/common/metrics.h"

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prometheus/metric_family.h"

namespace sllm {
namespace {

// The metric of `family_name` whose labels include all of `labels`, or nullptr.
const prometheus::ClientMetric* FindMetric(const std::vector<prometheus::MetricFamily>& families,
                                           const std::string& family_name,
                                           const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& family : families) {
    if (family.name != family_name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      int matched = 0;
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched == static_cast<int>(labels.size())) return &metric;
    }
  }
  return nullptr;
}

void ExpectIncreasing(const std::vector<double>& bounds) {
  EXPECT_TRUE(std::is_sorted(bounds.begin(), bounds.end()));
  EXPECT_EQ(std::adjacent_find(bounds.begin(), bounds.end()), bounds.end());
}

TEST(BucketsTest, ExponentialBuckets) {
  EXPECT_EQ(ExponentialBuckets(1.0, 2.0, 4), (std::vector<double>{1, 2, 4, 8}));
  EXPECT_TRUE(ExponentialBuckets(1.0, 2.0, 0).empty());
}

TEST(BucketsTest, LatencyBucketsSpanOneMillisecondToOneMinute) {
  const std::vector<double> bounds = LatencyBuckets();
  ExpectIncreasing(bounds);
  EXPECT_DOUBLE_EQ(bounds.front(), 0.001);
  EXPECT_DOUBLE_EQ(bounds.back(), 60.0);
  for (size_t i = 1; i < bounds.size(); ++i) EXPECT_LE(bounds[i] / bounds[i - 1], 2.5 + 1e-9);
}

TEST(BucketsTest, InterTokenBucketsSpanHalfMillisecondToFiveSeconds) {
  const std::vector<double> bounds = InterTokenLatencyBuckets();
  ExpectIncreasing(bounds);
  EXPECT_DOUBLE_EQ(bounds.front(), 0.0005);
  EXPECT_DOUBLE_EQ(bounds.back(), 5.0);
  for (size_t i = 1; i < bounds.size(); ++i) EXPECT_LE(bounds[i] / bounds[i - 1], 2.5 + 1e-9);
}

TEST(RpcMetricsTest, ScopeRecordsCodeAndLatencyOnce) {
  prometheus::Registry registry;
  RpcMetrics metrics(registry, "sllm.v1.TestService");
  {
    RpcMetrics::Scope scope = metrics.Start("Encode");
    grpc::Status status = scope.Finish(grpc::Status(grpc::StatusCode::NOT_FOUND, "no model"));
    EXPECT_EQ(status.error_message(), "no model");
  }  // Already recorded: the destructor must not record again.
  { RpcMetrics::Scope scope = metrics.Start("Encode"); }  // Code never set: UNKNOWN.
  {
    RpcMetrics::Scope scope = metrics.Start("Decode");
    scope.set_code(grpc::StatusCode::OK);
    RpcMetrics::Scope moved = std::move(scope);  // Only the moved-to scope records.
  }
  { metrics.Start("Decode").Dismiss(); }

  const std::vector<prometheus::MetricFamily> families = registry.Collect();
  const std::string service = "sllm.v1.TestService";
  const auto* not_found =
      FindMetric(families, "sllm_rpc_requests_total",
                 {{"service", service}, {"rpc", "Encode"}, {"code", "NOT_FOUND"}});
  const auto* unknown = FindMetric(families, "sllm_rpc_requests_total",
                                   {{"service", service}, {"rpc", "Encode"}, {"code", "UNKNOWN"}});
  const auto* ok = FindMetric(families, "sllm_rpc_requests_total",
                              {{"service", service}, {"rpc", "Decode"}, {"code", "OK"}});
  ASSERT_NE(not_found, nullptr);
  ASSERT_NE(unknown, nullptr);
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(not_found->counter.value, 1);
  EXPECT_EQ(unknown->counter.value, 1);
  EXPECT_EQ(ok->counter.value, 1);

  const auto* encode_latency =
      FindMetric(families, "sllm_rpc_latency_seconds", {{"service", service}, {"rpc", "Encode"}});
  const auto* decode_latency =
      FindMetric(families, "sllm_rpc_latency_seconds", {{"service", service}, {"rpc", "Decode"}});
  ASSERT_NE(encode_latency, nullptr);
  ASSERT_NE(decode_latency, nullptr);
  EXPECT_EQ(encode_latency->histogram.sample_count, 2u);
  EXPECT_EQ(decode_latency->histogram.sample_count, 1u);
  // One bucket per bound plus +Inf.
  EXPECT_EQ(encode_latency->histogram.bucket.size(), LatencyBuckets().size() + 1);
}

TEST(RpcMetricsTest, ServicesShareOneRegistry) {
  prometheus::Registry registry;
  RpcMetrics tokenizer(registry, "sllm.v1.TokenizerService");
  RpcMetrics worker(registry, "sllm.v1.WorkerService");
  tokenizer.Record("Encode", grpc::StatusCode::OK, 0.002);
  worker.Record("Generate", grpc::StatusCode::CANCELLED, 1.5);
  const std::vector<prometheus::MetricFamily> families = registry.Collect();
  EXPECT_NE(FindMetric(families, "sllm_rpc_requests_total",
                       {{"service", "sllm.v1.TokenizerService"}, {"code", "OK"}}),
            nullptr);
  EXPECT_NE(FindMetric(families, "sllm_rpc_requests_total",
                       {{"service", "sllm.v1.WorkerService"}, {"code", "CANCELLED"}}),
            nullptr);
  EXPECT_EQ(std::count_if(families.begin(), families.end(),
                          [](const auto& f) { return f.name == "sllm_rpc_requests_total"; }),
            1);
}

}  // namespace
}  // namespace sllm
