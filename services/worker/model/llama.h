// LlamaForCausalLM (Llama 2/3/3.1/3.2, TinyLlama, Bllossom, Yi-Ko): a module tree named after
// the transformers checkpoint keys
//   model.embed_tokens.weight
//   model.layers.N.input_layernorm.weight
//   model.layers.N.self_attn.{q,k,v,o}_proj.{weight,bias?}
//   model.layers.N.post_attention_layernorm.weight
//   model.layers.N.mlp.{gate,up,down}_proj.{weight,bias?}
//   model.norm.weight
//   lm_head.weight            (absent with tie_word_embeddings: embed_tokens is reused)
// with GQA, head_dim, rope_theta, rope_scaling (linear, llama3), attention_bias and mlp_bias,
// following transformers' modeling_llama.py. MistralForCausalLM is the same tree with a
// sliding attention window on every layer (modeling_mistral.py), and is built by this class.
#ifndef SLLM_SERVICES_WORKER_MODEL_LLAMA_H_
#define SLLM_SERVICES_WORKER_MODEL_LLAMA_H_

#include <cstdint>
#include <memory>
#include <string_view>

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

// Shared by the Llama-style families (Llama, Mistral, EXAONE 4): UNIMPLEMENTED unless the
// config's hidden_act is SiLU.
absl::Status CheckSiluActivation(const ModelConfig& config);

class LlamaAttention : public Module {
 public:
  LlamaAttention(const ModelConfig& config, int64_t layer, const at::TensorOptions& options);
  // x [T, hidden] -> [T, hidden].
  at::Tensor Forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const;

 private:
  int64_t layer_, heads_, kv_heads_, head_dim_;
  int64_t window_;  // Sliding attention window (Mistral), 0 for full attention.
  double scale_;
  Linear* q_proj_;
  Linear* k_proj_;
  Linear* v_proj_;
  Linear* o_proj_;
};

// down_proj(silu(gate_proj(x)) * up_proj(x)).
class LlamaMLP : public Module {
 public:
  LlamaMLP(const ModelConfig& config, const at::TensorOptions& options);
  // x [T, hidden] -> [T, hidden].
  at::Tensor Forward(const at::Tensor& x) const;

 private:
  Linear* gate_proj_;
  Linear* up_proj_;
  Linear* down_proj_;
};

// Pre-norm block: x + attn(norm(x)), then h + mlp(norm(h)).
class LlamaDecoderLayer : public Module {
 public:
  LlamaDecoderLayer(const ModelConfig& config, int64_t layer, const at::TensorOptions& options);
  // x [T, hidden] -> [T, hidden].
  at::Tensor Forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const;

 private:
  LlamaAttention* self_attn_;
  LlamaMLP* mlp_;
  RMSNorm* input_layernorm_;
  RMSNorm* post_attention_layernorm_;
};

using LlamaModel = DecoderModel<LlamaDecoderLayer>;

class LlamaForCausalLM : public DecoderCausalLM<LlamaModel> {
 public:
  // UNIMPLEMENTED for configs this implementation cannot run (an activation other than SiLU).
  static absl::StatusOr<std::unique_ptr<LlamaForCausalLM>> Create(const ModelConfig& config,
                                                                  const ModelOptions& options);

 private:
  LlamaForCausalLM(const ModelConfig& config, const ModelOptions& options)
      : DecoderCausalLM(config, options, /*lm_head_bias=*/false) {}
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_LLAMA_H_
