#include "services/worker/model/llama.h"

#include <cmath>

#include <ATen/TensorOperators.h>
#include <ATen/ops/silu.h>

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

absl::Status CheckSiluActivation(const ModelConfig& config) {
  if (config.hidden_act != "silu" && config.hidden_act != "swish") {
    return absl::UnimplementedError(absl::StrCat(config.architecture, ": hidden_act '",
                                                 config.hidden_act, "' is not supported (silu)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<LlamaForCausalLM>> LlamaForCausalLM::Create(
    const ModelConfig& config, const ModelOptions& options) {
  if (absl::Status status = CheckSiluActivation(config); !status.ok()) return status;
  return std::unique_ptr<LlamaForCausalLM>(new LlamaForCausalLM(config, options));
}

}  // namespace sllm::worker
