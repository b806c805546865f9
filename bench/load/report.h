// A run's numbers: latency percentiles, throughputs and errors, as one JSON object and as a
// table for people.
#ifndef SLLM_BENCH_LOAD_REPORT_H_
#define SLLM_BENCH_LOAD_REPORT_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>

#include "bench/load/runner.h"
#include "bench/load/stats.h"

namespace sllm::loadgen {

// What was asked for, echoed in the report.
struct RunConfig {
  std::string target;  // grpc://..., http://..., worker://...
  std::string model;
  std::string label;   // Free text, e.g. a commit or machine.
  int concurrency = 1;
  double rate = 0;     // 0: closed loop.
  int64_t num_requests = 0;
  double duration_s = 0;
  int warmup = 0;
  std::string prompt_len, output_len, prompts_file;
  std::string prompt_format;  // "text" or "ids": what the requests carried.
  uint64_t seed = 0;
  double temperature = 0;
};

struct Report {
  RunConfig config;
  int64_t requests = 0, completed = 0, failed = 0;
  // Failed requests by error class, with one message of each class.
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> error_examples;
  // Completed requests whose output length differs from the one asked for.
  int64_t length_mismatches = 0;
  // Requests whose streamed tokens and usage disagree.
  int64_t token_count_mismatches = 0;
  double duration_s = 0;
  // Tokens of completed requests.
  int64_t prompt_tokens = 0, output_tokens = 0, cached_prompt_tokens = 0;
  double request_throughput = 0, output_throughput = 0, total_token_throughput = 0;
  // Milliseconds, over completed requests. TPOT: (e2e - TTFT) / (output tokens - 1).
  Summary ttft_ms, itl_ms, tpot_ms, e2e_ms;
  // Open loop only: from arrival to send (client-side queueing when all clients are busy).
  Summary queue_delay_ms;
};

Report Aggregate(const RunConfig& config, const RunResult& run);

// One JSON object: {"config": {...}, "requests": ..., "ttft_ms": {"mean", "p50", ...}, ...}.
std::string ReportJson(const Report& report);

// A short table: counts, throughputs, then mean/p50/p90/p99 of TTFT, ITL, TPOT and e2e.
void PrintReport(const Report& report, std::ostream& out);

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_REPORT_H_
