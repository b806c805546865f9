#include "services/worker/kv_cache/kv_cache.h"

#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/zeros.h>

#include "gtest/gtest.h"

namespace sllm::worker {
namespace {

KVCacheOptions SmallOptions() {
  KVCacheOptions o;
  o.num_layers = 2;
  o.num_blocks = 5;
  o.block_size = 4;
  o.num_kv_heads = 2;
  o.head_dim = 3;
  return o;
}

at::Tensor Int64(std::vector<int64_t> v) { return at::tensor(v, at::kLong); }

TEST(KVCacheTest, ShapesAndBytes) {
  KVCache cache(SmallOptions());
  EXPECT_EQ(cache.key(1).sizes(), (std::vector<int64_t>{5, 4, 2, 3}));
  EXPECT_EQ(cache.value(0).sizes(), (std::vector<int64_t>{5, 4, 2, 3}));
  EXPECT_EQ(KVCache::BytesPerBlock(SmallOptions()), 2 * 2 * 4 * 2 * 3 * 4);
  KVCacheOptions bf16 = SmallOptions();
  bf16.dtype = at::kBFloat16;
  EXPECT_EQ(KVCache::BytesPerBlock(bf16), 2 * 2 * 4 * 2 * 3 * 2);
}

TEST(KVCacheTest, WriteThenGatherFollowsTheBlockTable) {
  KVCache cache(SmallOptions());
  // A sequence of 6 tokens in blocks {3, 1}: slots 12..15 then 4..5.
  const at::Tensor keys = at::arange(6 * 2 * 3, at::kFloat).view({6, 2, 3});
  const at::Tensor values = -keys;
  cache.Write(1, Int64({12, 13, 14, 15, 4, 5}), keys, values);
  auto [k, v] = cache.Gather(1, Int64({3, 1}), 6);
  EXPECT_TRUE(at::equal(k, keys));
  EXPECT_TRUE(at::equal(v, values));
  // Layer 0 is untouched; a shorter gather is a prefix.
  auto [k0, v0] = cache.Gather(0, Int64({3, 1}), 6);
  EXPECT_TRUE(at::equal(k0, at::zeros({6, 2, 3})));
  auto [k4, v4] = cache.Gather(1, Int64({3}), 4);
  EXPECT_TRUE(at::equal(k4, keys.narrow(0, 0, 4)));
  // Block 3, offset 1 in the raw storage.
  EXPECT_TRUE(at::equal(cache.key(1)[3][1], keys[1]));
}

TEST(KVCacheTest, WriteCastsToTheCacheDtype) {
  KVCacheOptions o = SmallOptions();
  o.dtype = at::kBFloat16;
  KVCache cache(o);
  const at::Tensor keys = at::arange(2 * 3, at::kFloat).view({1, 2, 3});
  cache.Write(0, Int64({7}), keys, keys);
  auto [k, v] = cache.Gather(0, Int64({1}), 4);
  EXPECT_EQ(k.scalar_type(), at::kBFloat16);
  EXPECT_TRUE(at::equal(k[3].to(at::kFloat), keys[0]));
}

}  // namespace
}  // namespace sllm::worker
