// sllm-loadgen as a library: options in, report out (main.cc maps flags onto LoadgenOptions;
// tests call RunLoadgen directly).
#ifndef SLLM_BENCH_LOAD_LOADGEN_H_
#define SLLM_BENCH_LOAD_LOADGEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/report.h"
#include "bench/load/request.h"

namespace sllm::loadgen {

struct LoadgenOptions {
  // grpc://HOST:PORT (gateway gRPC), http://HOST:PORT (gateway OpenAI HTTP) or
  // worker://HOST:PORT (one worker shard).
  std::string target;
  // Model name; empty: the first one the target serves.
  std::string model;
  // A folder with tokenizer.json (or the file): synthetic prompts become text of exact token
  // lengths, and text prompts get ids for worker://. Empty: synthetic prompts are token ids.
  std::string tokenizer;
  // Synthetic ids are drawn below this; 0: what the target reports (gRPC targets do).
  uint32_t vocab_size = 0;

  // Lengths in tokens: "N" or "MIN:MAX" (uniform).
  std::string prompt_len = "64";
  std::string output_len = "128";
  // JSON lines of {"prompt": "..."} or {"prompt_ids": [...]} (optionally "output_len");
  // replaces synthetic prompts.
  std::string prompts_file;
  // What gateway requests carry: "auto" (each prompt's text when it has text, else its ids),
  // "text" or "ids". worker:// always sends ids.
  std::string prompt_format = "auto";

  // Closed loop with this many clients; with rate > 0, the most requests in flight.
  int concurrency = 1;
  // Poisson arrivals, requests/s; 0: closed loop.
  double rate = 0;
  // Requests to measure; 0: as many as fit in duration_s.
  int64_t num_requests = 100;
  // Stop sending after this many seconds; 0: no limit.
  double duration_s = 0;
  // Requests sent (at the same concurrency) and thrown away before measuring, with synthetic
  // prompts of their own seed (the worker's prefix cache must not serve the measured prompts);
  // with prompts_file, the file's first prompts.
  int warmup = 0;

  // Seeds the prompts, lengths, arrivals and the requests' sampling seed.
  uint64_t seed = 0;
  // 0: greedy.
  double temperature = 0;
  double timeout_s = 600;
  // Free text kept in the report (commit, machine).
  std::string label;
};

struct LoadgenRun {
  Report report;
  // Per request, in send order.
  std::vector<RequestResult> results;
};

// Checks the options (INVALID_ARGUMENT naming the flag, its limit and value), probes the
// target, makes the prompts, runs the warm-up and the load.
absl::StatusOr<LoadgenRun> RunLoadgen(const LoadgenOptions& options);

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_LOADGEN_H_
