// PhiForCausalLM (Phi-1, Phi-1.5, Phi-2): a module tree named after the checkpoint keys
//   model.embed_tokens.weight
//   model.layers.N.input_layernorm.{weight,bias}
//   model.layers.N.self_attn.{q_proj,k_proj,v_proj,dense}.{weight,bias}
//   model.layers.N.mlp.{fc1,fc2}.{weight,bias}
//   model.final_layernorm.{weight,bias}
//   lm_head.{weight,bias}
// following transformers' modeling_phi.py: one LayerNorm feeding attention and MLP in parallel
// (x + attn(ln(x)) + mlp(ln(x))), partial rotary embedding on the first
// int(head_dim * partial_rotary_factor) dims of each head, gelu_new MLP, biases everywhere.
#ifndef SLLM_SERVICES_WORKER_MODEL_PHI_H_
#define SLLM_SERVICES_WORKER_MODEL_PHI_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/loader/model_config.h"
#include "services/worker/model/attention_metadata.h"
#include "services/worker/model/decoder_lm.h"
#include "services/worker/model/layers.h"
#include "services/worker/model/model_options.h"
#include "services/worker/model/module.h"
#include "services/worker/model/rotary_embedding.h"

namespace sllm::worker {

class PhiAttention : public Module {
 public:
  PhiAttention(const ModelConfig& config, int64_t layer, const at::TensorOptions& options);
  // x [T, hidden] -> [T, hidden]; cos and sin cover the rotary dims only.
  at::Tensor Forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const;

 private:
  int64_t layer_, heads_, kv_heads_, head_dim_;
  double scale_;
  Linear* q_proj_;
  Linear* k_proj_;
  Linear* v_proj_;
  Linear* dense_;
};

// fc2(gelu(fc1(x))), gelu with the tanh approximation for gelu_new.
class PhiMLP : public Module {
 public:
  PhiMLP(const ModelConfig& config, const at::TensorOptions& options);
  at::Tensor Forward(const at::Tensor& x) const;

 private:
  std::string approximate_;  // at::gelu's "tanh" (gelu_new) or "none" (gelu).
  Linear* fc1_;
  Linear* fc2_;
};

// Parallel block: x + attn(input_layernorm(x)) + mlp(input_layernorm(x)).
class PhiDecoderLayer : public Module {
 public:
  PhiDecoderLayer(const ModelConfig& config, int64_t layer, const at::TensorOptions& options);
  at::Tensor Forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const;

 private:
  PhiAttention* self_attn_;
  PhiMLP* mlp_;
  LayerNorm* input_layernorm_;
};

class PhiModel : public Module {
 public:
  PhiModel(const ModelConfig& config, const ModelOptions& options);
  // tokens, positions int64 [T] -> final-normed hidden states [T, hidden].
  at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const;
  const Embedding& embed_tokens() const { return *embed_tokens_; }

 private:
  Embedding* embed_tokens_;
  ModuleList* layers_;
  std::vector<PhiDecoderLayer*> layer_list_;
  LayerNorm* final_layernorm_;
  RotaryEmbedding rotary_;
};

class PhiForCausalLM : public DecoderCausalLM<PhiModel> {
 public:
  // UNIMPLEMENTED for hidden_act other than gelu_new / gelu_pytorch_tanh / gelu, and for
  // qk_layernorm (no Phi checkpoint served here uses it).
  static absl::StatusOr<std::unique_ptr<PhiForCausalLM>> Create(const ModelConfig& config,
                                                                const ModelOptions& options);

 private:
  PhiForCausalLM(const ModelConfig& config, const ModelOptions& options)
      : DecoderCausalLM(config, options, /*lm_head_bias=*/true) {}
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_PHI_H_
