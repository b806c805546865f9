// Continuous batching: each step, running sequences get their next token (or their next
// prompt chunk), then waiting sequences are admitted while the step's token budget, the
// running-sequence limit and the free KV blocks allow. Long prompts are prefilled in chunks
// so that they never stall the decoding streams. When blocks run out, the newest running
// sequence is preempted (its blocks freed; it is recomputed later). No libtorch.
#ifndef SLLM_SERVICES_WORKER_SCHEDULER_SCHEDULER_H_
#define SLLM_SERVICES_WORKER_SCHEDULER_SCHEDULER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "services/worker/kv_cache/block_allocator.h"
#include "services/worker/scheduler/prefix_cache.h"
#include "services/worker/scheduler/sequence.h"

namespace sllm::worker {

struct SchedulerOptions {
  // Sequences running (holding KV blocks) at once.
  int32_t max_num_seqs = 64;
  // Tokens computed per step, decode tokens and prefill chunks together.
  int32_t max_num_batched_tokens = 512;
  // Waiting-queue bound: beyond it Add() answers RESOURCE_EXHAUSTED.
  int32_t max_waiting = 256;
  // Tokens per KV block.
  int32_t block_size = 16;
  // Context length of the model: prompt + generated tokens never exceed it.
  int32_t max_model_len = 2048;
  // Reuse KV blocks of identical prompt prefixes.
  bool enable_prefix_cache = true;
};

// One sequence's part of a step.
struct ScheduledSequence {
  Sequence* seq;
  int32_t start;       // First new token (== tokens already computed).
  int32_t num_tokens;  // New tokens computed this step.
  bool samples;        // The chunk reaches the last known token: sample the next one.
};

struct StepSchedule {
  std::vector<ScheduledSequence> sequences;
  int32_t num_tokens = 0;
  // Sequences dropped this step because they were cancelled; their blocks are free.
  std::vector<std::shared_ptr<Sequence>> cancelled;
  bool empty() const { return sequences.empty(); }
};

class Scheduler {
 public:
  Scheduler(const SchedulerOptions& options, BlockAllocator& allocator);

  // Queues a sequence (tokens = its prompt, max_new_tokens set). RESOURCE_EXHAUSTED when the
  // waiting queue is full, or when its context could never fit in the KV cache.
  absl::Status Add(std::shared_ptr<Sequence> seq);

  // Plans the next step and reserves its KV blocks. The caller runs the model for the planned
  // tokens, then appends sampled tokens and calls Finish() for sequences that are done.
  StepSchedule Schedule();

  // Removes a running sequence and frees its blocks (after registering its full prompt blocks
  // in the prefix cache).
  void Finish(Sequence* seq, FinishReason reason);

  int32_t num_running() const { return static_cast<int32_t>(running_.size()); }
  int32_t num_waiting() const { return static_cast<int32_t>(waiting_.size()); }
  bool idle() const { return running_.empty() && waiting_.empty(); }
  // Tokens still to process: the pending prompt tokens plus the remaining max_new_tokens of
  // every running and waiting sequence (a preempted one's prompt counts again).
  int64_t outstanding_tokens() const;
  const PrefixCache& prefix_cache() const { return prefix_cache_; }
  const SchedulerOptions& options() const { return options_; }
  int64_t num_preemptions() const { return preemptions_; }

 private:
  // Makes room for `seq` to hold `num_tokens` tokens; false when blocks are short.
  bool EnsureBlocks(Sequence& seq, int32_t num_tokens);
  bool AllocateBlocks(int32_t n, std::vector<int32_t>& out);
  void Release(Sequence& seq);
  void RegisterPrefix(Sequence& seq);
  void Preempt(std::shared_ptr<Sequence> seq);
  void DropCancelled(StepSchedule& schedule);

  const SchedulerOptions options_;
  BlockAllocator& allocator_;
  PrefixCache prefix_cache_;
  std::deque<std::shared_ptr<Sequence>> waiting_;
  std::vector<std::shared_ptr<Sequence>> running_;  // Oldest first.
  int64_t preemptions_ = 0;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SCHEDULER_SCHEDULER_H_
