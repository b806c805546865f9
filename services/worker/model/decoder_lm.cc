#include "services/worker/model/decoder_lm.h"

#include "absl/strings/match.h"

namespace sllm::worker {

bool IsUnusedCheckpointTensor(const ModelConfig& config, std::string_view name) {
  if (config.tie_word_embeddings && name == "lm_head.weight") return true;
  return absl::EndsWith(absl::string_view(name.data(), name.size()), ".rotary_emb.inv_freq");
}

}  // namespace sllm::worker
