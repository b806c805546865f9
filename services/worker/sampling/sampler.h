// Turns one sequence's next-token logits into a token: repetition / presence / frequency
// penalties, temperature, top-k, top-p, min-p, a seeded random draw, and logprobs of the
// model's own distribution (before penalties and temperature, as OpenAI reports them).
#ifndef SLLM_SERVICES_WORKER_SAMPLING_SAMPLER_H_
#define SLLM_SERVICES_WORKER_SAMPLING_SAMPLER_H_

#include <cstdint>
#include <random>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/types/span.h"
#include "services/worker/sampling/sampling_params.h"

namespace sllm::worker {

struct TokenLogprob {
  uint32_t token;
  float logprob;
};

struct SampleResult {
  uint32_t token = 0;
  // log P(token) under the model's raw distribution; 0 when logprobs were not asked for.
  float logprob = 0.0f;
  // The `params.logprobs` most likely tokens of the raw distribution, most likely first.
  std::vector<TokenLogprob> top;
};

// The sampling state of one sequence. Not thread-safe; one per sequence.
class SequenceSampler {
 public:
  // `params` must be valid (ValidateSamplingParams). `prompt` feeds the repetition penalty.
  // `seed` is used when params.seed is unset.
  SequenceSampler(const SamplingParams& params, absl::Span<const uint32_t> prompt, uint64_t seed);

  // Chooses the next token. `logits` (one per vocabulary id) is scratch: it is modified.
  SampleResult Sample(absl::Span<float> logits);

  // Records a generated token (for the penalties). Sample() does not call it.
  void Accept(uint32_t token);

  const SamplingParams& params() const { return params_; }

 private:
  void ApplyPenalties(absl::Span<float> logits) const;
  uint32_t Draw(absl::Span<const float> logits);
  double Uniform();

  SamplingParams params_;
  std::mt19937_64 rng_;
  absl::flat_hash_set<uint32_t> seen_;                 // Prompt and output tokens.
  absl::flat_hash_map<uint32_t, int32_t> generated_;  // Output token counts.
  std::vector<std::pair<float, uint32_t>> scratch_;
  std::vector<double> probs_;
};

// Index of the largest logit; the lowest index among equal maxima (like torch.argmax).
uint32_t Argmax(absl::Span<const float> logits);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SAMPLING_SAMPLER_H_
