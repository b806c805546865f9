// When a sequence stops: an EOS id (unless ignored or before min_new_tokens), a stop token
// id, max_new_tokens, or the model's context length.
#ifndef SLLM_SERVICES_WORKER_SCHEDULER_STOP_RULES_H_
#define SLLM_SERVICES_WORKER_SCHEDULER_STOP_RULES_H_

#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "services/worker/scheduler/sequence.h"

namespace sllm::worker {

struct StoppingCriteria {
  // Ids that end generation (the model's EOS ids).
  absl::flat_hash_set<uint32_t> eos_ids;
  // More ids that end generation, asked for by the request; they apply even with ignore_eos.
  absl::flat_hash_set<uint32_t> stop_token_ids;
  // Most tokens to generate (> 0).
  int32_t max_new_tokens = 16;
  // EOS and stop ids do not end generation before this many tokens.
  int32_t min_new_tokens = 0;
  // Keep generating past EOS ids (benchmarks).
  bool ignore_eos = false;
  // Context length of the model.
  int32_t max_model_len = 2048;
};

// The reason `seq` stops after its last generated token, or kNone to go on.
FinishReason CheckStop(const Sequence& seq, const StoppingCriteria& criteria);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SCHEDULER_STOP_RULES_H_
