#include "services/worker/model/attention_metadata.h"

#include <ATen/ops/tensor.h>

#include "absl/strings/str_cat.h"

namespace sllm::worker {
namespace {

at::Tensor ToDevice(const std::vector<int64_t>& values, c10::Device device) {
  return at::tensor(values, at::kLong).to(device);
}

}  // namespace

absl::StatusOr<StepInputs> BuildStepInputs(const std::vector<SequenceStep>& sequences,
                                           int64_t block_size, c10::Device device) {
  std::vector<int64_t> tokens, positions, slots, logits_rows;
  StepInputs inputs;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const SequenceStep& seq = sequences[i];
    const int64_t n = static_cast<int64_t>(seq.tokens.size());
    const int64_t context_len = seq.num_cached + n;
    if (n == 0) return absl::InvalidArgumentError(absl::StrCat("sequence ", i, " has no tokens"));
    const int64_t blocks_needed = (context_len + block_size - 1) / block_size;
    if (static_cast<int64_t>(seq.block_table.size()) < blocks_needed) {
      return absl::InvalidArgumentError(
          absl::StrCat("sequence ", i, " has ", seq.block_table.size(), " blocks but ",
                       context_len, " tokens need ", blocks_needed));
    }
    SequenceAttention attention;
    attention.query_start = static_cast<int64_t>(tokens.size());
    attention.num_query_tokens = n;
    attention.context_len = context_len;
    attention.block_table = ToDevice(
        std::vector<int64_t>(seq.block_table.begin(), seq.block_table.begin() + blocks_needed),
        device);
    for (int64_t j = 0; j < n; ++j) {
      const int64_t pos = seq.num_cached + j;
      if (seq.all_logits || j == n - 1) logits_rows.push_back(static_cast<int64_t>(tokens.size()));
      tokens.push_back(seq.tokens[j]);
      positions.push_back(pos);
      slots.push_back(seq.block_table[pos / block_size] * block_size + pos % block_size);
    }
    inputs.metadata.sequences.push_back(std::move(attention));
  }
  inputs.tokens = ToDevice(tokens, device);
  inputs.positions = ToDevice(positions, device);
  inputs.metadata.slot_mapping = ToDevice(slots, device);
  inputs.metadata.logits_indices = ToDevice(logits_rows, device);
  return inputs;
}

}  // namespace sllm::worker
