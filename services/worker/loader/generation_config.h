// generation_config.json: the model's default generation settings and stop ids.
#ifndef SLLM_SERVICES_WORKER_LOADER_GENERATION_CONFIG_H_
#define SLLM_SERVICES_WORKER_LOADER_GENERATION_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "services/worker/loader/model_config.h"

namespace sllm::worker {

struct GenerationConfig {
  std::optional<int64_t> bos_token_id;
  // eos_token_id: an int or a list; generation stops at any of them.
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> pad_token_id;
  // Sampling defaults a request may override; nullopt when the file does not set them.
  bool do_sample = false;
  std::optional<double> temperature;
  std::optional<int64_t> top_k;
  std::optional<double> top_p;
  std::optional<double> min_p;
  std::optional<double> repetition_penalty;
  std::optional<int64_t> max_new_tokens;
  std::optional<int64_t> max_length;
};

absl::StatusOr<GenerationConfig> ParseGenerationConfig(std::string_view json_text);
// Reads `model_dir`/generation_config.json; a missing file gives the defaults (no error).
absl::StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& model_dir);

// The stop ids of a model: generation_config's eos ids when it names any, else config.json's.
std::vector<int64_t> EosTokenIds(const ModelConfig& model, const GenerationConfig& generation);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_LOADER_GENERATION_CONFIG_H_
