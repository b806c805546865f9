#include "services/worker/model/model_loader.h"

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/worker/loader/checkpoint.h"
#include "services/worker/model/exaone4.h"
#include "services/worker/model/llama.h"
#include "services/worker/model/phi.h"
#include "services/worker/model/weight_loader.h"

namespace sllm::worker {

absl::StatusOr<std::unique_ptr<CausalLM>> CreateCausalLM(const ModelConfig& config,
                                                         const ModelOptions& options) {
  if (config.architecture == "LlamaForCausalLM" || config.architecture == "MistralForCausalLM") {
    ASSIGN_OR_RETURN(std::unique_ptr<LlamaForCausalLM> llama,
                     LlamaForCausalLM::Create(config, options));
    return std::unique_ptr<CausalLM>(std::move(llama));
  }
  if (config.architecture == "Exaone4ForCausalLM") {
    ASSIGN_OR_RETURN(std::unique_ptr<Exaone4ForCausalLM> exaone,
                     Exaone4ForCausalLM::Create(config, options));
    return std::unique_ptr<CausalLM>(std::move(exaone));
  }
  if (config.architecture == "PhiForCausalLM") {
    ASSIGN_OR_RETURN(std::unique_ptr<PhiForCausalLM> phi, PhiForCausalLM::Create(config, options));
    return std::unique_ptr<CausalLM>(std::move(phi));
  }
  return absl::UnimplementedError(
      absl::StrCat("no model implementation for architecture '", config.architecture, "'"));
}

absl::StatusOr<LoadedModel> LoadModel(const std::string& model_dir, const ModelOptions& options) {
  LoadedModel loaded;
  ASSIGN_OR_RETURN(loaded.config, LoadModelConfig(model_dir));
  ASSIGN_OR_RETURN(loaded.generation_config, LoadGenerationConfig(model_dir));
  ASSIGN_OR_RETURN(std::unique_ptr<Checkpoint> checkpoint, Checkpoint::OpenDir(model_dir));
  ASSIGN_OR_RETURN(loaded.model, CreateCausalLM(loaded.config, options));
  const CausalLM& model = *loaded.model;
  absl::Status status = LoadWeights(
      model, *checkpoint, [&](std::string_view name) { return model.IgnoresCheckpointTensor(name); });
  if (status.ok() && options.quantize) status = loaded.model->QuantizeLinears(*options.quantize);
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(model_dir, ": ", status.message()));
  }
  return loaded;
}

}  // namespace sllm::worker
