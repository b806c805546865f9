#include "services/worker/loader/generation_config.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"
#include "services/worker/loader/json_fields.h"

namespace sllm::worker {
namespace {

using Json = nlohmann::json;
namespace jf = json_fields;

}  // namespace

absl::StatusOr<GenerationConfig> ParseGenerationConfig(std::string_view json_text) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("generation config is not a valid JSON object");
  }
  GenerationConfig g;
  ASSIGN_OR_RETURN(g.bos_token_id, jf::Int(j, "bos_token_id"));
  ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> eos, jf::IntOrIntList(j, "eos_token_id"));
  g.eos_token_ids = eos.value_or(std::vector<int64_t>());
  ASSIGN_OR_RETURN(g.pad_token_id, jf::Int(j, "pad_token_id"));
  ASSIGN_OR_RETURN(std::optional<bool> do_sample, jf::Bool(j, "do_sample"));
  g.do_sample = do_sample.value_or(false);
  ASSIGN_OR_RETURN(g.temperature, jf::Number(j, "temperature"));
  ASSIGN_OR_RETURN(g.top_k, jf::Int(j, "top_k"));
  ASSIGN_OR_RETURN(g.top_p, jf::Number(j, "top_p"));
  ASSIGN_OR_RETURN(g.min_p, jf::Number(j, "min_p"));
  ASSIGN_OR_RETURN(g.repetition_penalty, jf::Number(j, "repetition_penalty"));
  ASSIGN_OR_RETURN(g.max_new_tokens, jf::Int(j, "max_new_tokens"));
  ASSIGN_OR_RETURN(g.max_length, jf::Int(j, "max_length"));
  return g;
}

absl::StatusOr<GenerationConfig> LoadGenerationConfig(const std::string& model_dir) {
  const std::string path = absl::StrCat(model_dir, "/generation_config.json");
  if (!std::filesystem::exists(path)) return GenerationConfig();
  ASSIGN_OR_RETURN(std::string text, jf::ReadTextFile(path));
  auto config = ParseGenerationConfig(text);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

std::vector<int64_t> EosTokenIds(const ModelConfig& model, const GenerationConfig& generation) {
  return generation.eos_token_ids.empty() ? model.eos_token_ids : generation.eos_token_ids;
}

}  // namespace sllm::worker
