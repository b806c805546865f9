// Paged KV-cache storage: per layer, one key and one value tensor of shape
// [num_blocks, block_size, num_kv_heads, head_dim]. Token slot s of the cache is
// (block s / block_size, offset s % block_size); a sequence's tokens live in the blocks of its
// block table (see BlockAllocator), in order.
#ifndef SLLM_SERVICES_WORKER_KV_CACHE_KV_CACHE_H_
#define SLLM_SERVICES_WORKER_KV_CACHE_KV_CACHE_H_

#include <cstdint>
#include <utility>
#include <vector>

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

namespace sllm::worker {

struct KVCacheOptions {
  int64_t num_layers = 0;
  int64_t num_blocks = 0;
  // Tokens per block.
  int64_t block_size = 16;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;
  // Usually the serving dtype of the model.
  c10::ScalarType dtype = c10::ScalarType::Float;
  c10::Device device = c10::Device(c10::DeviceType::CPU);
};

class KVCache {
 public:
  // Allocates all layers, zero-filled.
  explicit KVCache(const KVCacheOptions& options);

  // Bytes of one block over all layers, keys and values: what a memory budget divides by.
  static int64_t BytesPerBlock(const KVCacheOptions& options);

  const KVCacheOptions& options() const { return options_; }
  int64_t block_size() const { return options_.block_size; }
  int64_t num_blocks() const { return options_.num_blocks; }
  int64_t num_layers() const { return options_.num_layers; }

  // [num_blocks, block_size, num_kv_heads, head_dim].
  const at::Tensor& key(int64_t layer) const { return keys_[layer]; }
  const at::Tensor& value(int64_t layer) const { return values_[layer]; }

  // Stores the keys and values [T, num_kv_heads, head_dim] of T tokens at cache slots
  // `slots` (int64 [T], on the cache's device).
  void Write(int64_t layer, const at::Tensor& slots, const at::Tensor& keys,
             const at::Tensor& values);

  // The first `num_tokens` keys and values of a sequence whose blocks are `block_table`
  // (int64 [>= ceil(num_tokens / block_size)], on the cache's device), each
  // [num_tokens, num_kv_heads, head_dim].
  std::pair<at::Tensor, at::Tensor> Gather(int64_t layer, const at::Tensor& block_table,
                                           int64_t num_tokens) const;

 private:
  KVCacheOptions options_;
  std::vector<at::Tensor> keys_;
  std::vector<at::Tensor> values_;
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_KV_CACHE_KV_CACHE_H_
