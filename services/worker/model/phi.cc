#include "services/worker/model/phi.h"

#include <cmath>

#include <ATen/TensorOperators.h>
#include <ATen/ops/gelu.h>

#include "absl/strings/str_cat.h"
#include "services/worker/model/attention.h"

namespace sllm::worker {
namespace {

int64_t RotaryDim(const ModelConfig& config) {
  return static_cast<int64_t>(config.head_dim * config.partial_rotary_factor);
}

}  // namespace

PhiAttention::PhiAttention(const ModelConfig& config, int64_t layer,
                           const at::TensorOptions& options)
    : layer_(layer),
      heads_(config.num_attention_heads),
      kv_heads_(config.num_key_value_heads),
      head_dim_(config.head_dim),
      scale_(1.0 / std::sqrt(static_cast<double>(config.head_dim))) {
  const int64_t hidden = config.hidden_size;
  q_proj_ = RegisterModule("q_proj",
                           std::make_unique<Linear>(hidden, heads_ * head_dim_, true, options));
  k_proj_ = RegisterModule("k_proj",
                           std::make_unique<Linear>(hidden, kv_heads_ * head_dim_, true, options));
  v_proj_ = RegisterModule("v_proj",
                           std::make_unique<Linear>(hidden, kv_heads_ * head_dim_, true, options));
  dense_ = RegisterModule("dense",
                          std::make_unique<Linear>(heads_ * head_dim_, hidden, true, options));
}

at::Tensor PhiAttention::Forward(const at::Tensor& x, const at::Tensor& cos,
                                 const at::Tensor& sin, const AttentionMetadata& metadata,
                                 KVCache& kv_cache) const {
  const int64_t t = x.size(0);
  // Apply rotates the first cos.size(-1) dims and passes the rest through.
  const at::Tensor q =
      RotaryEmbedding::Apply(q_proj_->Forward(x).view({t, heads_, head_dim_}), cos, sin);
  const at::Tensor k =
      RotaryEmbedding::Apply(k_proj_->Forward(x).view({t, kv_heads_, head_dim_}), cos, sin);
  const at::Tensor v = v_proj_->Forward(x).view({t, kv_heads_, head_dim_});
  const at::Tensor out = PagedAttention(q, k, v, kv_cache, layer_, metadata, scale_);
  return dense_->Forward(out.reshape({t, heads_ * head_dim_}));
}

PhiMLP::PhiMLP(const ModelConfig& config, const at::TensorOptions& options)
    : approximate_(config.hidden_act == "gelu" ? "none" : "tanh") {
  fc1_ = RegisterModule(
      "fc1", std::make_unique<Linear>(config.hidden_size, config.intermediate_size, true, options));
  fc2_ = RegisterModule(
      "fc2", std::make_unique<Linear>(config.intermediate_size, config.hidden_size, true, options));
}

at::Tensor PhiMLP::Forward(const at::Tensor& x) const {
  return fc2_->Forward(at::gelu(fc1_->Forward(x), approximate_));
}

PhiDecoderLayer::PhiDecoderLayer(const ModelConfig& config, int64_t layer,
                                 const at::TensorOptions& options) {
  self_attn_ = RegisterModule("self_attn", std::make_unique<PhiAttention>(config, layer, options));
  mlp_ = RegisterModule("mlp", std::make_unique<PhiMLP>(config, options));
  input_layernorm_ = RegisterModule(
      "input_layernorm",
      std::make_unique<LayerNorm>(config.hidden_size, config.layer_norm_eps, options));
}

at::Tensor PhiDecoderLayer::Forward(const at::Tensor& x, const at::Tensor& cos,
                                    const at::Tensor& sin, const AttentionMetadata& metadata,
                                    KVCache& kv_cache) const {
  const at::Tensor h = input_layernorm_->Forward(x);
  // transformers: attn_outputs + feed_forward_hidden_states + residual.
  return self_attn_->Forward(h, cos, sin, metadata, kv_cache) + mlp_->Forward(h) + x;
}

PhiModel::PhiModel(const ModelConfig& config, const ModelOptions& options)
    : rotary_(RotaryDim(config), config.rope_theta, config.rope_scaling, options.device) {
  const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
  embed_tokens_ = RegisterModule(
      "embed_tokens",
      std::make_unique<Embedding>(config.vocab_size, config.hidden_size, tensor_options));
  layers_ = RegisterModule("layers", std::make_unique<ModuleList>());
  for (int64_t i = 0; i < config.num_hidden_layers; ++i) {
    layer_list_.push_back(
        layers_->Append(std::make_unique<PhiDecoderLayer>(config, i, tensor_options)));
  }
  final_layernorm_ = RegisterModule(
      "final_layernorm",
      std::make_unique<LayerNorm>(config.hidden_size, config.layer_norm_eps, tensor_options));
}

at::Tensor PhiModel::Forward(const at::Tensor& tokens, const at::Tensor& positions,
                             const AttentionMetadata& metadata, KVCache& kv_cache) const {
  at::Tensor h = embed_tokens_->Forward(tokens);
  const auto [cos, sin] = rotary_.CosSin(positions, h.scalar_type());
  for (const PhiDecoderLayer* layer : layer_list_) {
    h = layer->Forward(h, cos, sin, metadata, kv_cache);
  }
  return final_layernorm_->Forward(h);
}

absl::StatusOr<std::unique_ptr<PhiForCausalLM>> PhiForCausalLM::Create(
    const ModelConfig& config, const ModelOptions& options) {
  const std::string& act = config.hidden_act;
  if (act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "gelu") {
    return absl::UnimplementedError(
        absl::StrCat(config.architecture, ": hidden_act '", act,
                     "' is not supported (gelu_new, gelu_pytorch_tanh, gelu)"));
  }
  if (config.qk_layernorm) {
    return absl::UnimplementedError(
        absl::StrCat(config.architecture, ": qk_layernorm true is not supported"));
  }
  return std::unique_ptr<PhiForCausalLM>(new PhiForCausalLM(config, options));
}

}  // namespace sllm::worker
