// A sequence as the scheduler and engine track it: its tokens, how many of them are in the
// KV cache, and the cache blocks that hold them.
#ifndef SLLM_SERVICES_WORKER_SCHEDULER_SEQUENCE_H_
#define SLLM_SERVICES_WORKER_SCHEDULER_SEQUENCE_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <vector>

namespace sllm::worker {

enum class FinishReason { kNone, kEos, kLength, kStop, kCancelled, kError };

// "eos", "length", "stop", "cancelled", "error" or "none".
inline const char* FinishReasonName(FinishReason r) {
  switch (r) {
    case FinishReason::kEos: return "eos";
    case FinishReason::kLength: return "length";
    case FinishReason::kStop: return "stop";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kError: return "error";
    case FinishReason::kNone: break;
  }
  return "none";
}

struct Sequence {
  uint64_t id = 0;
  // Prompt followed by the generated tokens.
  std::vector<int64_t> tokens;
  int32_t prompt_len = 0;
  // Most tokens to generate.
  int32_t max_new_tokens = 0;
  // Tokens whose keys and values are in the cache (prompt prefix, then generated tokens).
  int32_t num_computed = 0;
  // Prompt tokens served from the prefix cache instead of computed.
  int32_t num_cached_prompt = 0;
  // Cache blocks holding positions 0 .. num_computed - 1 (and room for this step's tokens).
  std::vector<int32_t> blocks;
  // Set from any thread; the scheduler drops the sequence at its next step.
  std::atomic<bool> cancelled{false};
  FinishReason finish_reason = FinishReason::kNone;
  // Its full prompt blocks are in the prefix cache.
  bool prefix_registered = false;
  // Monotonic times (ns): when the request arrived and when a step first included it.
  int64_t submitted_nanos = 0;
  int64_t first_scheduled_nanos = 0;

  int32_t num_generated() const { return static_cast<int32_t>(tokens.size()) - prompt_len; }
  // Tokens not yet in the cache.
  int32_t num_pending() const { return static_cast<int32_t>(tokens.size()) - num_computed; }
  // Work left: prompt tokens still to compute plus tokens still to generate (at most).
  int64_t num_outstanding() const {
    return std::max(0, prompt_len - num_computed) + std::max(0, max_new_tokens - num_generated());
  }
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SCHEDULER_SEQUENCE_H_
