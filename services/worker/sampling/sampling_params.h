// Per-request sampling options (the vLLM / OpenAI set) and their validation.
#ifndef SLLM_SERVICES_WORKER_SAMPLING_SAMPLING_PARAMS_H_
#define SLLM_SERVICES_WORKER_SAMPLING_SAMPLING_PARAMS_H_

#include <cstdint>
#include <optional>

#include "absl/status/status.h"

namespace sllm::worker {

struct SamplingParams {
  // Softmax temperature; 0 means greedy (argmax). Must be finite and >= 0.
  float temperature = 1.0f;
  // Keep only the k most likely tokens; 0 (or -1) disables.
  int32_t top_k = 0;
  // Keep the smallest set of most likely tokens whose probability mass reaches top_p; in (0, 1].
  float top_p = 1.0f;
  // Drop tokens whose probability is below min_p times the top token's; in [0, 1].
  float min_p = 0.0f;
  // Divides positive / multiplies negative logits of tokens seen in prompt or output; > 0.
  float repetition_penalty = 1.0f;
  // Subtracted once from the logit of every token already generated; in [-2, 2].
  float presence_penalty = 0.0f;
  // Subtracted, times its count, from the logit of every generated token; in [-2, 2].
  float frequency_penalty = 0.0f;
  // Seed of this request's random stream: the same seed gives the same tokens, whatever
  // else is in the batch. Unset: a fresh random seed.
  std::optional<uint64_t> seed;
  // Return the sampled token's logprob and this many top alternatives (0-20); -1 = none.
  int32_t logprobs = -1;

  bool greedy() const { return temperature == 0.0f; }
};

// INVALID_ARGUMENT naming the field, its limit and the value; OK otherwise.
absl::Status ValidateSamplingParams(const SamplingParams& params);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SAMPLING_SAMPLING_PARAMS_H_
