#include "bench/load/report.h"

#include <cstdio>

#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace sllm::loadgen {
namespace {

using json = nlohmann::ordered_json;

double Ms(double seconds) { return seconds * 1e3; }

json SummaryJson(const Summary& s) {
  return {{"count", s.count}, {"mean", s.mean}, {"p50", s.p50}, {"p90", s.p90},
          {"p99", s.p99},     {"min", s.min},   {"max", s.max}};
}

}  // namespace

Report Aggregate(const RunConfig& config, const RunResult& run) {
  Report r;
  r.config = config;
  r.duration_s = std::chrono::duration<double>(run.end - run.start).count();
  std::vector<double> ttft, itl, tpot, e2e;
  for (const RequestResult& q : run.results) {
    ++r.requests;
    r.token_count_mismatches += q.token_count_mismatch;
    if (!q.ok) {
      ++r.failed;
      ++r.errors[q.error];
      r.error_examples.emplace(q.error, q.error_message);
      continue;
    }
    ++r.completed;
    r.length_mismatches += q.output_tokens != q.requested_output_tokens;
    r.prompt_tokens += q.prompt_tokens;
    r.output_tokens += q.output_tokens;
    r.cached_prompt_tokens += q.cached_prompt_tokens;
    if (q.ttft_s >= 0) ttft.push_back(Ms(q.ttft_s));
    for (double x : q.itl_s) itl.push_back(Ms(x));
    e2e.push_back(Ms(q.e2e_s));
    if (q.output_tokens > 1 && q.ttft_s >= 0) {
      tpot.push_back(Ms(q.e2e_s - q.ttft_s) / static_cast<double>(q.output_tokens - 1));
    }
  }
  if (r.duration_s > 0) {
    r.request_throughput = static_cast<double>(r.completed) / r.duration_s;
    r.output_throughput = static_cast<double>(r.output_tokens) / r.duration_s;
    r.total_token_throughput =
        static_cast<double>(r.prompt_tokens + r.output_tokens) / r.duration_s;
  }
  r.ttft_ms = Summarize(std::move(ttft));
  r.itl_ms = Summarize(std::move(itl));
  r.tpot_ms = Summarize(std::move(tpot));
  r.e2e_ms = Summarize(std::move(e2e));
  if (config.rate > 0) {
    std::vector<double> delays;
    for (double d : run.queue_delay_s) delays.push_back(Ms(d));
    r.queue_delay_ms = Summarize(std::move(delays));
  }
  return r;
}

std::string ReportJson(const Report& r) {
  const RunConfig& c = r.config;
  json config = {{"target", c.target},
                 {"model", c.model},
                 {"label", c.label},
                 {"mode", c.rate > 0 ? "rate" : "concurrency"},
                 {"concurrency", c.concurrency},
                 {"rate", c.rate},
                 {"num_requests", c.num_requests},
                 {"duration_s", c.duration_s},
                 {"warmup", c.warmup},
                 {"prompt_len", c.prompt_len},
                 {"output_len", c.output_len},
                 {"prompts_file", c.prompts_file},
                 {"prompt_format", c.prompt_format},
                 {"seed", c.seed},
                 {"temperature", c.temperature}};
  json out = {{"config", config},
              {"requests", r.requests},
              {"completed", r.completed},
              {"failed", r.failed},
              {"errors", r.errors},
              {"error_examples", r.error_examples},
              {"length_mismatches", r.length_mismatches},
              {"token_count_mismatches", r.token_count_mismatches},
              {"duration_s", r.duration_s},
              {"prompt_tokens", r.prompt_tokens},
              {"output_tokens", r.output_tokens},
              {"cached_prompt_tokens", r.cached_prompt_tokens},
              {"request_throughput", r.request_throughput},
              {"output_throughput", r.output_throughput},
              {"total_token_throughput", r.total_token_throughput},
              {"ttft_ms", SummaryJson(r.ttft_ms)},
              {"itl_ms", SummaryJson(r.itl_ms)},
              {"tpot_ms", SummaryJson(r.tpot_ms)},
              {"e2e_ms", SummaryJson(r.e2e_ms)}};
  if (c.rate > 0) out["queue_delay_ms"] = SummaryJson(r.queue_delay_ms);
  return out.dump(2);
}

void PrintReport(const Report& r, std::ostream& out) {
  const RunConfig& c = r.config;
  out << absl::StrFormat("%s  model %s  %s  prompt %s (%s)  output %s\n", c.target, c.model,
                         c.rate > 0 ? absl::StrFormat("rate %.3g/s (<= %d in flight)", c.rate,
                                                      c.concurrency)
                                    : absl::StrFormat("concurrency %d", c.concurrency),
                         c.prompts_file.empty() ? c.prompt_len : c.prompts_file,
                         c.prompt_format, c.output_len);
  out << absl::StrFormat("requests     %d ok, %d failed in %.2f s (%.2f req/s)\n", r.completed,
                         r.failed, r.duration_s, r.request_throughput);
  out << absl::StrFormat("tokens       %d prompt (%d cached), %d output\n", r.prompt_tokens,
                         r.cached_prompt_tokens, r.output_tokens);
  out << absl::StrFormat("throughput   %.1f output tok/s, %.1f total tok/s\n",
                         r.output_throughput, r.total_token_throughput);
  out << absl::StrFormat("%-12s %9s %9s %9s %9s\n", "(ms)", "mean", "p50", "p90", "p99");
  auto row = [&](const char* name, const Summary& s) {
    out << absl::StrFormat("%-12s %9.3f %9.3f %9.3f %9.3f\n", name, s.mean, s.p50, s.p90, s.p99);
  };
  row("TTFT", r.ttft_ms);
  row("ITL", r.itl_ms);
  row("TPOT", r.tpot_ms);
  row("E2E", r.e2e_ms);
  if (c.rate > 0) row("queue delay", r.queue_delay_ms);
  if (r.length_mismatches > 0 || r.token_count_mismatches > 0) {
    out << absl::StrFormat("WARNING      %d outputs not of the requested length, %d with "
                           "streamed tokens != usage\n",
                           r.length_mismatches, r.token_count_mismatches);
  }
  if (r.errors.empty()) {
    out << "errors       none\n";
  } else {
    for (const auto& [code, n] : r.errors) {
      out << absl::StrFormat("error        %s x%d: %s\n", code, n, r.error_examples.at(code));
    }
  }
}

}  // namespace sllm::loadgen
