// Causal self-attention of a step's new tokens over each sequence's paged KV cache, with
// grouped-query attention (query head h reads KV head h / (heads / kv_heads), as transformers'
// repeat_kv). Scores, softmax and the weighted sum of values are computed in float32 from the
// stored q, k, v and the result is cast back to q's dtype, as fused attention kernels
// (FlashAttention, PyTorch's SDPA) accumulate in float32. transformers' eager path instead
// rounds the scores to the activation dtype: in bfloat16 that alone flips a tiny-llama3 greedy
// id at a step whose float32 margin is 4.9. On the CPU the decode tokens of a step (one per
// sequence) go through kernels::DecodeAttention, which reads the cache blocks in place;
// prompt chunks, and every sequence on CUDA, one sequence at a time through libtorch.
#ifndef SLLM_SERVICES_WORKER_MODEL_ATTENTION_H_
#define SLLM_SERVICES_WORKER_MODEL_ATTENTION_H_

#include <cstdint>

#include <ATen/core/Tensor.h>

#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/model/attention_metadata.h"

namespace sllm::worker {

// Writes the new keys and values k, v [T, kv_heads, head_dim] to `layer` of the cache at
// metadata.slot_mapping, then attends: q [T, heads, head_dim] -> [T, heads, head_dim].
// `scale` multiplies q.k (usually head_dim^-0.5). With `sliding_window` W > 0 a query at
// position p sees only keys in (p - W, p] (transformers' sliding_window masks: itself and the
// W - 1 previous tokens); 0 is full causal attention.
at::Tensor PagedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          KVCache& cache, int64_t layer, const AttentionMetadata& metadata,
                          double scale, int64_t sliding_window = 0);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_MODEL_ATTENTION_H_
