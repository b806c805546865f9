// What one model step needs to know about the sequences in its batch: which of the step's
// tokens belong to which sequence, where each sequence's keys and values live in the paged KV
// cache, and which rows to compute logits for. The same shape serves prefill, chunked prefill,
// decode, and a continuous batch mixing them.
//
// The step's tokens are laid out sequence after sequence; sequence i owns rows
// [query_start, query_start + num_query_tokens). Its new tokens are the last ones of its
// context: token j of the step is at position context_len - num_query_tokens + j and attends to
// context positions 0 .. that position.
#ifndef SLLM_SERVICES_WORKER_MODEL_ATTENTION_METADATA_H_
#define SLLM_SERVICES_WORKER_MODEL_ATTENTION_METADATA_H_

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include "absl/status/statusor.h"

namespace sllm::worker {

struct SequenceAttention {
  int64_t query_start = 0;       // First row of this sequence in the step.
  int64_t num_query_tokens = 0;  // Rows of this sequence in the step (> 0).
  int64_t context_len = 0;       // Tokens cached after this step, the new ones included.
  at::Tensor block_table;        // int64 [>= ceil(context_len / block_size)], on the device.
};

struct AttentionMetadata {
  std::vector<SequenceAttention> sequences;
  at::Tensor slot_mapping;    // int64 [T]: the cache slot each new token's K/V is written to.
  at::Tensor logits_indices;  // int64 [N]: the rows Forward returns logits for, in order.
};

// Host-side description of one sequence's part of a step (what a scheduler decides).
struct SequenceStep {
  std::vector<int64_t> tokens;      // New tokens of this step (prompt chunk or last sample).
  int64_t num_cached = 0;           // Tokens of the sequence already in the KV cache.
  std::vector<int32_t> block_table; // Blocks holding positions 0 .. num_cached + tokens - 1.
  bool all_logits = false;          // Logits for every new token, not only the last.
};

// A step's model inputs: token ids and positions int64 [T], and their metadata.
struct StepInputs {
  at::Tensor tokens;
  at::Tensor positions;
  AttentionMetadata metadata;
};

// Builds the inputs of one step on `device`. INVALID_ARGUMENT when a sequence has no tokens or
// its block table is too short for its context.
absl::StatusOr<StepInputs> BuildStepInputs(const std::vector<SequenceStep>& sequences,
                                           int64_t block_size, c10::Device device);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_ATTENTION_METADATA_H_
