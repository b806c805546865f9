#include "services/worker/model/llama.h"

#include <cmath>

#include <ATen/TensorOperators.h>
#include <ATen/ops/silu.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/worker/model/attention.h"

namespace sllm::worker {

LlamaAttention::LlamaAttention(const ModelConfig& config, int64_t layer,
                               const at::TensorOptions& options)
    : layer_(layer),
      heads_(config.num_attention_heads),
      kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      window_(config.AttentionWindow(layer)),
      scale_(1.0 / std::sqrt(static_cast<double>(config.head_dim))) {
  const int64_t hidden = config.hidden_size;
  const bool bias = config.attention_bias;
  q_proj_ = RegisterModule("q_proj",
                           std::make_unique<Linear>(hidden, heads_ * head_dim_, bias, options));
  k_proj_ = RegisterModule("k_proj",
                           std::make_unique<Linear>(hidden, kv_heads_ * head_dim_, bias, options));
  v_proj_ = RegisterModule("v_proj",
                           std::make_unique<Linear>(hidden, kv_heads_ * head_dim_, bias, options));
  o_proj_ = RegisterModule("o_proj",
                           std::make_unique<Linear>(heads_ * head_dim_, hidden, bias, options));
}

at::Tensor LlamaAttention::Forward(const at::Tensor& x, const at::Tensor& cos,
                                   const at::Tensor& sin, const AttentionMetadata& metadata,
                                   KVCache& kv_cache) const {
  const int64_t t = x.size(0);
  at::Tensor q = q_proj_->Forward(x).view({t, heads_, head_dim_});
  at::Tensor k = k_proj_->Forward(x).view({t, kv_heads_, head_dim_});
  const at::Tensor v = v_proj_->Forward(x).view({t, kv_heads_, head_dim_});
  q = RotaryEmbedding::Apply(q, cos, sin);
  k = RotaryEmbedding::Apply(k, cos, sin);
  const at::Tensor out = PagedAttention(q, k, v, kv_cache, layer_, metadata, scale_, window_);
  return o_proj_->Forward(out.reshape({t, heads_ * head_dim_}));
}

LlamaMLP::LlamaMLP(const ModelConfig& config, const at::TensorOptions& options) {
  const int64_t hidden = config.hidden_size, inner = config.intermediate_size;
  const bool bias = config.mlp_bias;
  gate_proj_ = RegisterModule("gate_proj", std::make_unique<Linear>(hidden, inner, bias, options));
  up_proj_ = RegisterModule("up_proj", std::make_unique<Linear>(hidden, inner, bias, options));
  down_proj_ = RegisterModule("down_proj", std::make_unique<Linear>(inner, hidden, bias, options));
}

at::Tensor LlamaMLP::Forward(const at::Tensor& x) const {
  return down_proj_->Forward(at::silu(gate_proj_->Forward(x)) * up_proj_->Forward(x));
}

LlamaDecoderLayer::LlamaDecoderLayer(const ModelConfig& config, int64_t layer,
                                     const at::TensorOptions& options) {
  self_attn_ = RegisterModule("self_attn", std::make_unique<LlamaAttention>(config, layer, options));
  mlp_ = RegisterModule("mlp", std::make_unique<LlamaMLP>(config, options));
  input_layernorm_ = RegisterModule(
      "input_layernorm", std::make_unique<RMSNorm>(config.hidden_size, config.rms_norm_eps, options));
  post_attention_layernorm_ = RegisterModule(
      "post_attention_layernorm",
      std::make_unique<RMSNorm>(config.hidden_size, config.rms_norm_eps, options));
}

at::Tensor LlamaDecoderLayer::Forward(const at::Tensor& x, const at::Tensor& cos,
                                      const at::Tensor& sin, const AttentionMetadata& metadata,
                                      KVCache& kv_cache) const {
  const at::Tensor h =
      x + self_attn_->Forward(input_layernorm_->Forward(x), cos, sin, metadata, kv_cache);
  return h + mlp_->Forward(post_attention_layernorm_->Forward(h));
}

LlamaModel::LlamaModel(const ModelConfig& config, const ModelOptions& options)
    : rotary_(config.head_dim, config.rope_theta, config.rope_scaling, options.device) {
  const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
  embed_tokens_ = RegisterModule(
      "embed_tokens",
      std::make_unique<Embedding>(config.vocab_size, config.hidden_size, tensor_options));
  layers_ = RegisterModule("layers", std::make_unique<ModuleList>());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    layer_list_.push_back(
        layers_->Append(std::make_unique<LlamaDecoderLayer>(config, i, tensor_options)));
  }
  norm_ = RegisterModule(
      "norm", std::make_unique<RMSNorm>(config.hidden_size, config.rms_norm_eps, tensor_options));
}

at::Tensor LlamaModel::Forward(const at::Tensor& tokens, const at::Tensor& positions,
                               const AttentionMetadata& metadata, KVCache& kv_cache) const {
  at::Tensor h = embed_tokens_->Forward(tokens);
  const auto [cos, sin] = rotary_.CosSin(positions, h.scalar_type());
  for (const LlamaDecoderLayer* layer : layer_list_) {
    h = layer->Forward(h, cos, sin, metadata, kv_cache);
  }
  return norm_->Forward(h);
}

absl::Status CheckSiluActivation(const ModelConfig& config) {
  if (config.hidden_act != "silu" && config.hidden_act != "swish") {
    return absl::UnimplementedError(absl::StrCat(config.architecture, ": hidden_act '",
                                                 config.hidden_act, "' is not supported (silu)"));
  }
  return absl::OkStatus();
}

bool IsUnusedLlamaStyleTensor(const ModelConfig& config, std::string_view name) {
  if (config.tie_word_embeddings && name == "lm_head.weight") return true;
  return absl::EndsWith(absl::string_view(name.data(), name.size()), ".rotary_emb.inv_freq");
}

absl::StatusOr<std::unique_ptr<LlamaForCausalLM>> LlamaForCausalLM::Create(
    const ModelConfig& config, const ModelOptions& options) {
  if (absl::Status status = CheckSiluActivation(config); !status.ok()) return status;
  return std::unique_ptr<LlamaForCausalLM>(new LlamaForCausalLM(config, options));
}

LlamaForCausalLM::LlamaForCausalLM(const ModelConfig& config, const ModelOptions& options)
    : config_(config), options_(options) {
  model_ = RegisterModule("model", std::make_unique<LlamaModel>(config, options));
  if (!config.tie_word_embeddings) {
    const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
    lm_head_ = RegisterModule(
        "lm_head",
        std::make_unique<Linear>(config.hidden_size, config.vocab_size, false, tensor_options));
  }
}

at::Tensor LlamaForCausalLM::Forward(const at::Tensor& tokens, const at::Tensor& positions,
                                     const AttentionMetadata& metadata, KVCache& kv_cache) {
  c10::InferenceMode guard;
  const at::Tensor hidden = model_->Forward(tokens, positions, metadata, kv_cache);
  return ProjectLogits(hidden, metadata.logits_indices,
                       lm_head_ != nullptr ? lm_head_->weight() : model_->embed_tokens().weight());
}

bool LlamaForCausalLM::IgnoresCheckpointTensor(std::string_view name) const {
  return IsUnusedLlamaStyleTensor(config_, name);
}

}  // namespace sllm::worker
