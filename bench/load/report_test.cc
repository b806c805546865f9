#include "bench/load/report.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sllm::loadgen {
namespace {

using ::testing::HasSubstr;

RequestResult Ok(double ttft, std::vector<double> itl, int64_t prompt, int64_t out) {
  RequestResult r;
  r.ok = true;
  r.ttft_s = ttft;
  r.itl_s = std::move(itl);
  r.e2e_s = ttft;
  for (double x : r.itl_s) r.e2e_s += x;
  r.prompt_tokens = prompt;
  r.output_tokens = out;
  r.streamed = out;
  r.usage_output_tokens = out;
  r.requested_output_tokens = 3;
  return r;
}

TEST(AggregateTest, ThroughputsPercentilesAndErrors) {
  RunResult run;
  run.start = Clock::time_point();
  run.end = run.start + std::chrono::seconds(2);
  run.results.push_back(Ok(0.010, {0.001, 0.003}, 10, 3));
  run.results.push_back(Ok(0.030, {0.002, 0.002}, 20, 3));
  RequestResult short_one = Ok(0.020, {0.004}, 5, 2);
  run.results.push_back(short_one);
  RequestResult failed;
  failed.error = "UNAVAILABLE";
  failed.error_message = "no shard";
  run.results.push_back(failed);
  run.results.push_back(failed);
  RunConfig config;
  config.target = "grpc://x:1";
  config.concurrency = 4;
  const Report r = Aggregate(config, run);

  EXPECT_EQ(r.requests, 5);
  EXPECT_EQ(r.completed, 3);
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(r.errors.at("UNAVAILABLE"), 2);
  EXPECT_EQ(r.error_examples.at("UNAVAILABLE"), "no shard");
  EXPECT_EQ(r.length_mismatches, 1);
  EXPECT_DOUBLE_EQ(r.duration_s, 2);
  EXPECT_EQ(r.prompt_tokens, 35);
  EXPECT_EQ(r.output_tokens, 8);
  EXPECT_DOUBLE_EQ(r.request_throughput, 1.5);
  EXPECT_DOUBLE_EQ(r.output_throughput, 4);
  EXPECT_DOUBLE_EQ(r.total_token_throughput, 21.5);
  EXPECT_DOUBLE_EQ(r.ttft_ms.p50, 20);
  EXPECT_DOUBLE_EQ(r.ttft_ms.mean, 20);
  EXPECT_EQ(r.itl_ms.count, 5u);
  EXPECT_DOUBLE_EQ(r.itl_ms.p50, 2);
  // TPOT of the first: (14 ms - 10 ms) / 2 tokens.
  EXPECT_EQ(r.tpot_ms.count, 3u);
  EXPECT_DOUBLE_EQ(r.tpot_ms.min, 2);
  EXPECT_DOUBLE_EQ(r.e2e_ms.max, 34);

  const auto j = nlohmann::json::parse(ReportJson(r));
  EXPECT_EQ(j["config"]["target"], "grpc://x:1");
  EXPECT_EQ(j["config"]["concurrency"], 4);
  EXPECT_EQ(j["config"]["mode"], "concurrency");
  EXPECT_EQ(j["errors"]["UNAVAILABLE"], 2);
  EXPECT_DOUBLE_EQ(j["ttft_ms"]["p50"].get<double>(), 20);
  EXPECT_DOUBLE_EQ(j["output_throughput"].get<double>(), 4);
  EXPECT_FALSE(j.contains("queue_delay_ms"));

  std::ostringstream table;
  PrintReport(r, table);
  EXPECT_THAT(table.str(), HasSubstr("3 ok, 2 failed"));
  EXPECT_THAT(table.str(), HasSubstr("UNAVAILABLE x2: no shard"));
  EXPECT_THAT(table.str(), HasSubstr("1 outputs not of the requested length"));
}

TEST(AggregateTest, RateModeReportsQueueDelay) {
  RunResult run;
  run.end = run.start + std::chrono::seconds(1);
  run.results.push_back(Ok(0.01, {}, 1, 1));
  run.queue_delay_s.push_back(0.5);
  RunConfig config;
  config.rate = 2;
  const Report r = Aggregate(config, run);
  EXPECT_DOUBLE_EQ(r.queue_delay_ms.p50, 500);
  const auto j = nlohmann::json::parse(ReportJson(r));
  EXPECT_EQ(j["config"]["mode"], "rate");
  EXPECT_DOUBLE_EQ(j["queue_delay_ms"]["max"].get<double>(), 500);
}

}  // namespace
}  // namespace sllm::loadgen
