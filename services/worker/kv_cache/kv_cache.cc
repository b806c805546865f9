#include "services/worker/kv_cache/kv_cache.h"

#include <ATen/ops/index_copy.h>
#include <ATen/ops/index_select.h>
#include <ATen/ops/zeros.h>
#include <c10/core/TensorOptions.h>

#include "glog/logging.h"

namespace sllm::worker {

KVCache::KVCache(const KVCacheOptions& options) : options_(options) {
  CHECK_GT(options.block_size, 0);
  CHECK_GE(options.num_blocks, 0);
  const auto tensor_options = at::TensorOptions().dtype(options.dtype).device(options.device);
  const std::vector<int64_t> shape = {options.num_blocks, options.block_size,
                                      options.num_kv_heads, options.head_dim};
  for (int64_t i = 0; i < options.num_layers; ++i) {
    keys_.push_back(at::zeros(shape, tensor_options));
    values_.push_back(at::zeros(shape, tensor_options));
  }
}

int64_t KVCache::BytesPerBlock(const KVCacheOptions& options) {
  return 2 * options.num_layers * options.block_size * options.num_kv_heads * options.head_dim *
         static_cast<int64_t>(c10::elementSize(options.dtype));
}

void KVCache::Write(int64_t layer, const at::Tensor& slots, const at::Tensor& keys,
                    const at::Tensor& values) {
  const int64_t slots_total = options_.num_blocks * options_.block_size;
  const std::vector<int64_t> flat = {slots_total, options_.num_kv_heads, options_.head_dim};
  keys_[layer].view(flat).index_copy_(0, slots, keys.to(options_.dtype));
  values_[layer].view(flat).index_copy_(0, slots, values.to(options_.dtype));
}

std::pair<at::Tensor, at::Tensor> KVCache::Gather(int64_t layer, const at::Tensor& block_table,
                                                  int64_t num_tokens) const {
  const std::vector<int64_t> flat = {-1, options_.num_kv_heads, options_.head_dim};
  auto gather = [&](const at::Tensor& cache) {
    return cache.index_select(0, block_table).view(flat).narrow(0, 0, num_tokens);
  };
  return {gather(keys_[layer]), gather(values_[layer])};
}

}  // namespace sllm::worker
