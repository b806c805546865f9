// The interface every model family implements: one step of a causal LM over a batch of
// sequences with a paged KV cache.
#ifndef SLLM_SERVICES_WORKER_MODEL_CAUSAL_LM_H_
#define SLLM_SERVICES_WORKER_MODEL_CAUSAL_LM_H_

#include <cstdint>
#include <string_view>

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"

#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/loader/model_config.h"
#include "services/worker/model/attention_metadata.h"
#include "services/worker/model/model_options.h"
#include "services/worker/model/module.h"
#include "services/worker/quant/quantized_matrix.h"

namespace sllm::worker {

class CausalLM : public Module {
 public:
  // Runs the step: tokens and positions int64 [T] (see attention_metadata.h for the layout);
  // writes the new keys and values into `kv_cache` and returns float32 logits
  // [metadata.logits_indices.size(0), vocab_size]. Runs in inference mode.
  virtual at::Tensor Forward(const at::Tensor& tokens, const at::Tensor& positions,
                             const AttentionMetadata& metadata, KVCache& kv_cache) = 0;

  // Checkpoint tensors the model does not need but that may be present (a tied lm_head saved
  // anyway, rotary inv_freq buffers of old checkpoints): not reported as unexpected.
  virtual bool IgnoresCheckpointTensor(std::string_view name) const = 0;

  // Bytes of weights one decode step reads (every linear layer and norm, and the output
  // projection; not the embedding rows).
  virtual int64_t DecodeWeightBytes() const = 0;

  // Quantizes every linear layer (the output projection included; a tied one gets its own
  // quantized copy, the embedding table stays as it is). CPU only.
  absl::Status QuantizeLinears(quant::QuantType type);

  virtual const ModelConfig& config() const = 0;
  virtual const ModelOptions& options() const = 0;

  // The KV-cache geometry this model needs (num_blocks and block_size left to the caller).
  KVCacheOptions KVCacheLayout() const {
    KVCacheOptions o;
    o.num_layers = config().num_hidden_layers;
    o.num_kv_heads = config().num_key_value_heads;
    o.head_dim = config().head_dim;
    o.dtype = options().dtype;
    o.device = options().device;
    return o;
  }
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_CAUSAL_LM_H_
