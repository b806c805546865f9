#include "services/worker/model/exaone4.h"

#include <cmath>

#include <ATen/TensorOperators.h>

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

absl::StatusOr<std::unique_ptr<Exaone4ForCausalLM>> Exaone4ForCausalLM::Create(
    const ModelConfig& config, const ModelOptions& options) {
  if (absl::Status status = CheckSiluActivation(config); !status.ok()) return status;
  return std::unique_ptr<Exaone4ForCausalLM>(new Exaone4ForCausalLM(config, options));
}

}  // namespace sllm::worker
