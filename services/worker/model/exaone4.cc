#include "services/worker/model/exaone4.h"

#include <cmath>

#include <ATen/TensorOperators.h>
#include <c10/core/InferenceMode.h>

#include "services/worker/model/attention.h"

namespace sllm::worker {

Exaone4Attention::Exaone4Attention(const ModelConfig& config, int64_t layer,
                                   const at::TensorOptions& options)
    : layer_(layer),
      heads_(config.num_attention_heads),
      kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      window_(config.AttentionWindow(layer)),
      // "We use global NoPE for hybrid attention model": with a sliding_window in the config
      // only the sliding layers rotate q and k.
      rope_(!config.sliding_window.has_value() || window_ > 0),
      scale_(1.0 / std::sqrt(static_cast<double>(config.head_dim))) {
  const int64_t hidden = config.hidden_size;
  q_proj_ = RegisterModule("q_proj",
                           std::make_unique<Linear>(hidden, heads_ * head_dim_, false, options));
  k_proj_ = RegisterModule("k_proj",
                           std::make_unique<Linear>(hidden, kv_heads_ * head_dim_, false, options));
  v_proj_ = RegisterModule("v_proj",
                           std::make_unique<Linear>(hidden, kv_heads_ * head_dim_, false, options));
  o_proj_ = RegisterModule("o_proj",
                           std::make_unique<Linear>(heads_ * head_dim_, hidden, false, options));
  q_norm_ = RegisterModule("q_norm",
                           std::make_unique<RMSNorm>(head_dim_, config.rms_norm_eps, options));
  k_norm_ = RegisterModule("k_norm",
                           std::make_unique<RMSNorm>(head_dim_, config.rms_norm_eps, options));
}

at::Tensor Exaone4Attention::Forward(const at::Tensor& x, const at::Tensor& cos,
                                     const at::Tensor& sin, const AttentionMetadata& metadata,
                                     KVCache& kv_cache) const {
  const int64_t t = x.size(0);
  at::Tensor q = q_norm_->Forward(q_proj_->Forward(x).view({t, heads_, head_dim_}));
  at::Tensor k = k_norm_->Forward(k_proj_->Forward(x).view({t, kv_heads_, head_dim_}));
  const at::Tensor v = v_proj_->Forward(x).view({t, kv_heads_, head_dim_});
  if (rope_) {
    q = RotaryEmbedding::Apply(q, cos, sin);
    k = RotaryEmbedding::Apply(k, cos, sin);
  }
  const at::Tensor out = PagedAttention(q, k, v, kv_cache, layer_, metadata, scale_, window_);
  return o_proj_->Forward(out.reshape({t, heads_ * head_dim_}));
}

Exaone4DecoderLayer::Exaone4DecoderLayer(const ModelConfig& config, int64_t layer,
                                         const at::TensorOptions& options) {
  self_attn_ =
      RegisterModule("self_attn", std::make_unique<Exaone4Attention>(config, layer, options));
  mlp_ = RegisterModule("mlp", std::make_unique<LlamaMLP>(config, options));
  post_attention_layernorm_ = RegisterModule(
      "post_attention_layernorm",
      std::make_unique<RMSNorm>(config.hidden_size, config.rms_norm_eps, options));
  post_feedforward_layernorm_ = RegisterModule(
      "post_feedforward_layernorm",
      std::make_unique<RMSNorm>(config.hidden_size, config.rms_norm_eps, options));
}

at::Tensor Exaone4DecoderLayer::Forward(const at::Tensor& x, const at::Tensor& cos,
                                        const at::Tensor& sin, const AttentionMetadata& metadata,
                                        KVCache& kv_cache) const {
  const at::Tensor h =
      x + post_attention_layernorm_->Forward(self_attn_->Forward(x, cos, sin, metadata, kv_cache));
  return h + post_feedforward_layernorm_->Forward(mlp_->Forward(h));
}

Exaone4Model::Exaone4Model(const ModelConfig& config, const ModelOptions& options)
    : rotary_(config.head_dim, config.rope_theta, config.rope_scaling, options.device) {
  const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
  embed_tokens_ = RegisterModule(
      "embed_tokens",
      std::make_unique<Embedding>(config.vocab_size, config.hidden_size, tensor_options));
  layers_ = RegisterModule("layers", std::make_unique<ModuleList>());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    layer_list_.push_back(
        layers_->Append(std::make_unique<Exaone4DecoderLayer>(config, i, tensor_options)));
  }
  norm_ = RegisterModule(
      "norm", std::make_unique<RMSNorm>(config.hidden_size, config.rms_norm_eps, tensor_options));
}

at::Tensor Exaone4Model::Forward(const at::Tensor& tokens, const at::Tensor& positions,
                                 const AttentionMetadata& metadata, KVCache& kv_cache) const {
  at::Tensor h = embed_tokens_->Forward(tokens);
  const auto [cos, sin] = rotary_.CosSin(positions, h.scalar_type());
  for (const Exaone4DecoderLayer* layer : layer_list_) {
    h = layer->Forward(h, cos, sin, metadata, kv_cache);
  }
  return norm_->Forward(h);
}

absl::StatusOr<std::unique_ptr<Exaone4ForCausalLM>> Exaone4ForCausalLM::Create(
    const ModelConfig& config, const ModelOptions& options) {
  if (absl::Status status = CheckSiluActivation(config); !status.ok()) return status;
  return std::unique_ptr<Exaone4ForCausalLM>(new Exaone4ForCausalLM(config, options));
}

Exaone4ForCausalLM::Exaone4ForCausalLM(const ModelConfig& config, const ModelOptions& options)
    : config_(config), options_(options) {
  model_ = RegisterModule("model", std::make_unique<Exaone4Model>(config, options));
  if (!config.tie_word_embeddings) {
    const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
    lm_head_ = RegisterModule(
        "lm_head",
        std::make_unique<Linear>(config.hidden_size, config.vocab_size, false, tensor_options));
  }
}

at::Tensor Exaone4ForCausalLM::Forward(const at::Tensor& tokens, const at::Tensor& positions,
                                       const AttentionMetadata& metadata, KVCache& kv_cache) {
  c10::InferenceMode guard;
  const at::Tensor hidden = model_->Forward(tokens, positions, metadata, kv_cache);
  return ProjectLogits(hidden, metadata.logits_indices,
                       lm_head_ != nullptr ? lm_head_->weight() : model_->embed_tokens().weight());
}

bool Exaone4ForCausalLM::IgnoresCheckpointTensor(std::string_view name) const {
  return IsUnusedLlamaStyleTensor(config_, name);
}

}  // namespace sllm::worker
