#include "services/worker/model/greedy.h"

#include <algorithm>

#include <ATen/TensorOperators.h>
#include <ATen/ops/cat.h>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/worker/model/attention_metadata.h"

namespace sllm::worker {

absl::StatusOr<GreedyResult> GenerateGreedy(CausalLM& model, KVCache& cache,
                                            BlockAllocator& allocator,
                                            const std::vector<int64_t>& prompt,
                                            const GreedyOptions& options) {
  const int64_t prompt_len = static_cast<int64_t>(prompt.size());
  if (prompt_len == 0) return absl::InvalidArgumentError("empty prompt");
  const int64_t last_position = prompt_len + options.max_new_tokens - 2;
  if (last_position >= model.config().max_position_embeddings) {
    return absl::InvalidArgumentError(
        absl::StrCat("prompt of ", prompt_len, " tokens + ", options.max_new_tokens,
                     " new tokens exceed max_position_embeddings ",
                     model.config().max_position_embeddings));
  }
  std::vector<int32_t> blocks;
  absl::Cleanup free_blocks = [&] { allocator.Free(blocks); };
  std::vector<at::Tensor> logit_rows;

  // Runs one step of `tokens` after `num_cached` cached ones; returns the last row's argmax.
  auto step = [&](std::vector<int64_t> tokens, int64_t num_cached) -> absl::StatusOr<int64_t> {
    const int64_t context = num_cached + static_cast<int64_t>(tokens.size());
    const int64_t needed = BlocksForTokens(context, cache.block_size()) -
                           static_cast<int64_t>(blocks.size());
    if (needed > 0 && !allocator.Allocate(static_cast<int32_t>(needed), blocks)) {
      return absl::ResourceExhaustedError(
          absl::StrCat("KV cache has no free block for position ", context - 1));
    }
    SequenceStep seq{std::move(tokens), num_cached, blocks, options.return_logits};
    ASSIGN_OR_RETURN(StepInputs in,
                     BuildStepInputs({seq}, cache.block_size(), model.options().device));
    const at::Tensor logits = model.Forward(in.tokens, in.positions, in.metadata, cache);
    if (options.return_logits) logit_rows.push_back(logits.cpu());
    return logits[logits.size(0) - 1].argmax().item<int64_t>();
  };

  const int64_t chunk = options.prefill_chunk > 0 ? options.prefill_chunk : prompt_len;
  int64_t next = -1;
  for (int64_t start = 0; start < prompt_len; start += chunk) {
    const int64_t end = std::min(prompt_len, start + chunk);
    ASSIGN_OR_RETURN(next, step(std::vector<int64_t>(prompt.begin() + start, prompt.begin() + end),
                                start));
  }
  GreedyResult result;
  while (options.max_new_tokens > 0) {
    result.tokens.push_back(next);
    const bool stop = std::find(options.stop_ids.begin(), options.stop_ids.end(), next) !=
                      options.stop_ids.end();
    if (stop || static_cast<int64_t>(result.tokens.size()) == options.max_new_tokens) break;
    ASSIGN_OR_RETURN(next, step({next}, prompt_len + static_cast<int64_t>(result.tokens.size()) - 1));
  }
  if (options.return_logits) result.logits = at::cat(logit_rows, 0);
  return result;
}

}  // namespace sllm::worker
