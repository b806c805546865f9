// Exaone4ForCausalLM (EXAONE 4.0 1.2B / 32B): a module tree named after the checkpoint keys
//   model.embed_tokens.weight
//   model.layers.N.self_attn.{q,k,v,o}_proj.weight
//   model.layers.N.self_attn.{q_norm,k_norm}.weight          (RMSNorm over each head's dims)
//   model.layers.N.mlp.{gate,up,down}_proj.weight
//   model.layers.N.{post_attention_layernorm,post_feedforward_layernorm}.weight
//   model.norm.weight
//   lm_head.weight            (absent with tie_word_embeddings)
// following transformers' modeling_exaone4.py: QK-norm before RoPE; the "QK-Reorder-Norm"
// post-norm layout (x + norm(attn(x)), then h + norm(mlp(h)), no input norms); hybrid
// attention from config.layer_types, where the sliding layers see a window and, when the
// config has a sliding_window, only they apply RoPE (global NoPE).
#ifndef SLLM_SERVICES_WORKER_MODEL_EXAONE4_H_
#define SLLM_SERVICES_WORKER_MODEL_EXAONE4_H_

#include <cstdint>
#include <memory>

#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"
#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/loader/model_config.h"
#include "services/worker/model/attention_metadata.h"
#include "services/worker/model/decoder_lm.h"
#include "services/worker/model/layers.h"
#include "services/worker/model/llama.h"
#include "services/worker/model/model_options.h"
#include "services/worker/model/module.h"
#include "services/worker/model/rotary_embedding.h"

namespace sllm::worker {

class Exaone4Attention : public Module {
 public:
  Exaone4Attention(const ModelConfig& config, int64_t layer, const at::TensorOptions& options);
  // x [T, hidden] -> [T, hidden].
  at::Tensor Forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const;

 private:
  int64_t layer_, heads_, kv_heads_, head_dim_;
  int64_t window_;  // 0 on full-attention layers.
  bool rope_;       // False on the global layers of a hybrid model.
  double scale_;
  Linear* q_proj_;
  Linear* k_proj_;
  Linear* v_proj_;
  Linear* o_proj_;
  RMSNorm* q_norm_;
  RMSNorm* k_norm_;
};

// Post-norm block: h = x + post_attention_layernorm(attn(x)), h + post_feedforward_layernorm(mlp(h)).
class Exaone4DecoderLayer : public Module {
 public:
  Exaone4DecoderLayer(const ModelConfig& config, int64_t layer, const at::TensorOptions& options);
  at::Tensor Forward(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin,
                     const AttentionMetadata& metadata, KVCache& kv_cache) const;

 private:
  Exaone4Attention* self_attn_;
  LlamaMLP* mlp_;
  RMSNorm* post_attention_layernorm_;
  RMSNorm* post_feedforward_layernorm_;
};

using Exaone4Model = DecoderModel<Exaone4DecoderLayer>;

class Exaone4ForCausalLM : public DecoderCausalLM<Exaone4Model> {
 public:
  // UNIMPLEMENTED for an activation other than SiLU.
  static absl::StatusOr<std::unique_ptr<Exaone4ForCausalLM>> Create(const ModelConfig& config,
                                                                    const ModelOptions& options);

 private:
  Exaone4ForCausalLM(const ModelConfig& config, const ModelOptions& options)
      : DecoderCausalLM(config, options, /*lm_head_bias=*/false) {}
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_EXAONE4_H_
