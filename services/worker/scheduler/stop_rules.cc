#include "services/worker/scheduler/stop_rules.h"

namespace sllm::worker {

FinishReason CheckStop(const Sequence& seq, const StoppingCriteria& c) {
  const int32_t generated = seq.num_generated();
  if (generated <= 0) return FinishReason::kNone;
  const auto last = static_cast<uint32_t>(seq.tokens.back());
  if (generated >= c.min_new_tokens) {
    if (c.stop_token_ids.contains(last)) return FinishReason::kStop;
    if (!c.ignore_eos && c.eos_ids.contains(last)) return FinishReason::kEos;
  }
  if (generated >= c.max_new_tokens) return FinishReason::kLength;
  if (static_cast<int32_t>(seq.tokens.size()) >= c.max_model_len) return FinishReason::kLength;
  return FinishReason::kNone;
}

}  // namespace sllm::worker
