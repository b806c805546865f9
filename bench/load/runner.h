// Load shapes: a closed loop of N clients (each sends its next request when the previous one
// ends) or open-loop Poisson arrivals at a rate, with at most N requests in flight. One thread
// per client, each with its own Session.
#ifndef SLLM_BENCH_LOAD_RUNNER_H_
#define SLLM_BENCH_LOAD_RUNNER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "bench/load/client.h"
#include "bench/load/request.h"

namespace sllm::loadgen {

struct LoadShape {
  // Closed loop: clients sending back to back. With rate > 0: the most requests in flight (an
  // arrival finding all busy waits, and its wait is reported as queue delay).
  int concurrency = 1;
  // Poisson arrivals, requests per second; 0: closed loop.
  double rate = 0;
  // Requests to send; 0: until duration_s.
  int64_t num_requests = 0;
  // Stop sending new requests after this many seconds (those in flight finish); 0: no limit.
  double duration_s = 0;
  // Seed of the arrival times.
  uint64_t seed = 0;
};

// What requests carry as their prompt.
enum class PromptFormat {
  kText,  // The prompt's text.
  kIds,   // The prompt's token ids.
  kAuto,  // Text when the prompt has text, else ids.
};

struct RunResult {
  // In the order requests were sent (request i used prompts[i % prompts.size()]).
  std::vector<RequestResult> results;
  // Open loop: per request, seconds from its arrival time to its send.
  std::vector<double> queue_delay_s;
  Clock::time_point start, end;
};

// Sends requests made of `prompts` (cycled) until the shape says stop; request ids are
// `id_prefix` + index.
RunResult RunLoad(LoadClient& client, const std::vector<Prompt>& prompts, PromptFormat format,
                  const RequestSettings& settings, const LoadShape& shape,
                  const std::string& id_prefix);

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_RUNNER_H_
