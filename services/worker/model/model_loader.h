// Builds the model a Hugging Face folder describes and loads its weights.
#ifndef SLLM_SERVICES_WORKER_MODEL_MODEL_LOADER_H_
#define SLLM_SERVICES_WORKER_MODEL_MODEL_LOADER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/worker/loader/generation_config.h"
#include "services/worker/loader/model_config.h"
#include "services/worker/model/causal_lm.h"
#include "services/worker/model/model_options.h"

namespace sllm::worker {

// The model family of `config.architecture`, parameters allocated but not loaded.
absl::StatusOr<std::unique_ptr<CausalLM>> CreateCausalLM(const ModelConfig& config,
                                                         const ModelOptions& options);

struct LoadedModel {
  ModelConfig config;
  GenerationConfig generation_config;
  std::unique_ptr<CausalLM> model;
};

// Reads config.json, generation_config.json and the safetensors weights of `model_dir`
// (memory-mapped, unmapped once copied into the model).
absl::StatusOr<LoadedModel> LoadModel(const std::string& model_dir, const ModelOptions& options);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_MODEL_LOADER_H_
