// Greedy decoding of one sequence through the paged KV cache: prefill the prompt (whole or in
// chunks), then one token per step. The reference loop the tests compare against other
// implementations; the engine's scheduler and sampler replace it for serving.
#ifndef SLLM_SERVICES_WORKER_MODEL_GREEDY_H_
#define SLLM_SERVICES_WORKER_MODEL_GREEDY_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "services/worker/kv_cache/block_allocator.h"
#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/model/causal_lm.h"

namespace sllm::worker {

struct GreedyOptions {
  // Tokens to generate at most.
  int64_t max_new_tokens = 16;
  // Stop after generating one of these (it is included in the output).
  std::vector<int64_t> stop_ids;
  // Prompt tokens per prefill step; 0 = the whole prompt in one step.
  int64_t prefill_chunk = 0;
  // Also return the logits of every position (prompt positions, then each decode step).
  bool return_logits = false;
};

struct GreedyResult {
  std::vector<int64_t> tokens;  // Generated ids, prompt excluded.
  // float32 [positions, vocab] when return_logits: row p holds the logits after reading
  // prompt + tokens up to position p (prompt.size() + tokens.size() - 1 rows).
  at::Tensor logits;
};

// Uses blocks from `allocator` (indexes into `cache`) and frees them before returning.
// RESOURCE_EXHAUSTED when the cache runs out of blocks; INVALID_ARGUMENT for an empty prompt or
// a sequence longer than max_position_embeddings.
absl::StatusOr<GreedyResult> GenerateGreedy(CausalLM& model, KVCache& cache,
                                            BlockAllocator& allocator,
                                            const std::vector<int64_t>& prompt,
                                            const GreedyOptions& options);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_GREEDY_H_
