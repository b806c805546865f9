// Attention of decode tokens (one new token per sequence) over a paged KV cache, straight
// from the cache blocks: no gathered copy of the context, no per-sequence tensor ops. The
// libtorch path (model/attention.cc) spent ~20 operator dispatches and two BLAS calls per
// sequence and layer, a third of a 16-sequence decode step of a small model.
//
// Same arithmetic as model/attention.cc: scores, softmax and the weighted sum of values in
// float32 (bfloat16 keys and values widen exactly), grouped-query heads (query head h reads
// KV head h / (heads / kv_heads)), an optional sliding window. No libtorch: plain pointers,
// OpenMP threads over (sequence, KV head) pairs.
#ifndef SLLM_SERVICES_WORKER_KERNELS_DECODE_ATTENTION_H_
#define SLLM_SERVICES_WORKER_KERNELS_DECODE_ATTENTION_H_

#include <cstdint>

#include "services/worker/kernels/isa.h"

namespace sllm::worker::kernels {

// One layer of the cache: keys and values [num_blocks, block_size, kv_heads, head_dim],
// row-major, float32 or bfloat16 (raw uint16 bit patterns).
struct PagedKV {
  const void* keys = nullptr;
  const void* values = nullptr;
  bool bfloat16 = false;
  int64_t block_size = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
};

// One sequence's decode token: its query [heads, head_dim], its blocks (block_table[b] holds
// positions b * block_size ...), its context length (the new token included, so the query
// sits at position context_len - 1) and where its output [heads, head_dim] goes.
struct DecodeQuery {
  const float* q = nullptr;
  const int64_t* block_table = nullptr;
  int64_t context_len = 0;
  float* out = nullptr;
};

// out = softmax(scale * q k^T) v for every query. With `window` W > 0 a query at position p
// sees keys p - W + 1 .. p; 0 is full causal attention. heads % kv.kv_heads == 0. Any AVX-512
// `isa` runs the AVX-512 code where head_dim is a multiple of 16; otherwise portable code.
void DecodeAttention(const DecodeQuery* queries, int64_t num_queries, int64_t heads,
                     const PagedKV& kv, float scale, int64_t window, Isa isa = Isa::kAuto);

}  // namespace sllm::worker::kernels

#endif  // SLLM_SERVICES_WORKER_KERNELS_DECODE_ATTENTION_H_
