// The parts every decoder-only family shares, as templates over its decoder layer:
//   DecoderModel<Layer>    model.embed_tokens, model.layers.N (Layer), model.norm (RMSNorm),
//                          with one rotary embedding over the whole head (Llama, Mistral,
//                          EXAONE 4);
//   DecoderCausalLM<Model> model (Model) and lm_head (sharing embed_tokens' weight when tied), the
//                          step in inference mode and the float32 logits of the selected rows.
// A Layer is constructed from (config, layer index, tensor options) and maps
// (x, cos, sin, metadata, cache) to the next hidden states.
#ifndef SLLM_SERVICES_WORKER_MODEL_DECODER_LM_H_
#define SLLM_SERVICES_WORKER_MODEL_DECODER_LM_H_

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/InferenceMode.h>

#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/loader/model_config.h"
#include "services/worker/model/attention_metadata.h"
#include "services/worker/model/causal_lm.h"
#include "services/worker/model/layers.h"
#include "services/worker/model/model_options.h"
#include "services/worker/model/module.h"
#include "services/worker/model/rotary_embedding.h"

namespace sllm::worker {

// Checkpoint tensors a model may find but does not use: a tied lm_head saved anyway, rotary
// inv_freq buffers of old checkpoints.
bool IsUnusedCheckpointTensor(const ModelConfig& config, std::string_view name);

template <typename Layer>
class DecoderModel : public Module {
 public:
  DecoderModel(const ModelConfig& config, const ModelOptions& options)
      : rotary_(config.head_dim, config.rope_theta, config.rope_scaling, options.device) {
    const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
    embed_tokens_ = RegisterModule(
        "embed_tokens",
        std::make_unique<Embedding>(config.vocab_size, config.hidden_size, tensor_options));
    layers_ = RegisterModule("layers", std::make_unique<ModuleList>());
    for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
      layer_list_.push_back(layers_->Append(std::make_unique<Layer>(config, i, tensor_options)));
    }
    norm_ = RegisterModule("norm", std::make_unique<RMSNorm>(config.hidden_size,
                                                             config.rms_norm_eps, tensor_options));
  }

  // tokens, positions int64 [T] -> final-normed hidden states [T, hidden].
  at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const {
    at::Tensor h = embed_tokens_->Forward(tokens);
    const auto [cos, sin] = rotary_.CosSin(positions, h.scalar_type());
    for (const Layer* layer : layer_list_) h = layer->Forward(h, cos, sin, metadata, kv_cache);
    return norm_->Forward(h);
  }
  const Embedding& embed_tokens() const { return *embed_tokens_; }

 private:
  Embedding* embed_tokens_;
  ModuleList* layers_;
  std::vector<Layer*> layer_list_;
  RMSNorm* norm_;
  RotaryEmbedding rotary_;
};

template <typename Model>
class DecoderCausalLM : public CausalLM {
 public:
  at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions,
                     const AttentionMetadata& metadata, KVCache& kv_cache) override {
    c10::InferenceMode guard;
    const at::Tensor hidden = model_->Forward(tokens, positions, metadata, kv_cache);
    return lm_head_->ForwardFloat(hidden.index_select(0, metadata.logits_indices));
  }
  int64_t DecodeWeightBytes() const override {
    // Every weight but the embedding table, which a step reads row by row, unless the
    // (unquantized) tied head reads all of it.
    const int64_t embedding = model_->embed_tokens().weight().nbytes();
    const bool head_reads_embedding = config_.tie_word_embeddings && !lm_head_->quantized();
    return WeightBytes() - embedding + (head_reads_embedding ? embedding : 0);
  }
  bool IgnoresCheckpointTensor(std::string_view name) const override {
    return IsUnusedCheckpointTensor(config_, name);
  }
  const ModelConfig& config() const override { return config_; }
  const ModelOptions& options() const override { return options_; }

 protected:
  // `lm_head_bias`: lm_head has a bias (Phi).
  DecoderCausalLM(const ModelConfig& config, const ModelOptions& options, bool lm_head_bias)
      : config_(config), options_(options) {
    model_ = RegisterModule("model", std::make_unique<Model>(config, options));
    if (config.tie_word_embeddings) {
      // No parameter of its own: it projects through the embedding table.
      lm_head_ = RegisterModule("lm_head",
                                std::make_unique<Linear>(model_->embed_tokens().weight()));
    } else {
      const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
      lm_head_ = RegisterModule("lm_head",
                                std::make_unique<Linear>(config.hidden_size, config.vocab_size,
                                                         lm_head_bias, tensor_options));
    }
  }

 private:
  ModelConfig config_;
  ModelOptions options_;
  Model* model_;
  Linear* lm_head_ = nullptr;  // Over model.embed_tokens' weight when tied.
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_DECODER_LM_H_
