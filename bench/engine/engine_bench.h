// llama-bench for the sllm engine: B concurrent sequences of P random prompt tokens each, G
// generated tokens each with ignore_eos, run through the real engine in-process (scheduler,
// paged KV cache, model, sampler). Prefill and decode are timed separately.
#ifndef SLLM_BENCH_ENGINE_ENGINE_BENCH_H_
#define SLLM_BENCH_ENGINE_ENGINE_BENCH_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "services/worker/engine/engine.h"

namespace sllm::bench {

struct EngineBenchOptions {
  // Prompt tokens per sequence (random ids, distinct per sequence so no prefix is shared).
  int32_t prompt_len = 64;
  // Tokens generated per sequence (the first comes out of the prefill step).
  int32_t gen_len = 32;
  // Sequences run concurrently.
  int32_t batch = 1;
  // Timed runs after one untimed warm-up run; the reported rates are their medians.
  int32_t repetitions = 3;
  uint64_t seed = 1;
};

struct EngineBenchResult {
  double prefill_tokens_per_s = 0;  // batch * prompt_len / prefill time.
  double decode_tokens_per_s = 0;   // batch * (gen_len - 1) / decode time (whole batch).
  double decode_step_ms = 0;        // Median decode step time.
  // Bytes of weights one decode step reads (CausalLM::DecodeWeightBytes).
  int64_t weight_bytes_per_step = 0;
  double weight_bytes_per_s = 0;  // weight_bytes_per_step * decode steps / decode time.
  int64_t model_bytes = 0;        // All weights as held in memory.
};

// Runs the benchmark on `engine` (stepped from this thread; the engine must not be started).
absl::StatusOr<EngineBenchResult> RunEngineBench(worker::Engine& engine,
                                                 const EngineBenchOptions& options);

}  // namespace sllm::bench

#endif  // SLLM_BENCH_ENGINE_ENGINE_BENCH_H_
