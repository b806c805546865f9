#include "services/worker/model/attention.h"

#include <algorithm>
#include <cmath>

#include <ATen/TensorOperators.h>
#include <ATen/Context.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/matmul.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/zeros_like.h>

#include "gtest/gtest.h"
#include "services/worker/kv_cache/kv_cache.h"
#include "services/worker/model/attention_metadata.h"

namespace sllm::worker {
namespace {

constexpr int64_t kHeads = 4, kKvHeads = 2, kDim = 8;

// Dense causal attention written independently: per query head h, keys of KV head
// h / (heads / kv_heads), over positions 0..i, or with a window w over max(0, i-w+1)..i.
at::Tensor DenseAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          int64_t window = 0) {
  const int64_t t = q.size(0);
  at::Tensor out = at::zeros_like(q);
  for (int64_t h = 0; h < kHeads; ++h) {
    const int64_t g = h / (kHeads / kKvHeads);
    for (int64_t i = 0; i < t; ++i) {
      const int64_t first = window > 0 ? std::max<int64_t>(0, i - window + 1) : 0;
      const at::Tensor keys = k.narrow(0, first, i + 1 - first).select(1, g);
      const at::Tensor scores = at::matmul(keys, q[i][h]) / std::sqrt(double(kDim));
      out[i][h] =
          at::matmul(at::softmax(scores, 0), v.narrow(0, first, i + 1 - first).select(1, g));
    }
  }
  return out;
}

// Runs PagedAttention over q, k, v in chunks of `chunk` tokens and returns its outputs.
at::Tensor ChunkedPagedAttention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                                 int64_t chunk, int64_t window) {
  KVCacheOptions o;
  o.num_layers = 1;
  o.num_blocks = 8;
  o.block_size = 3;
  o.num_kv_heads = kKvHeads;
  o.head_dim = kDim;
  const std::vector<int32_t> blocks = {6, 1, 4, 0, 7, 2};  // Out of order on purpose.
  KVCache cache(o);
  std::vector<at::Tensor> outs;
  const int64_t t = q.size(0);
  for (int64_t start = 0; start < t; start += chunk) {
    const int64_t n = std::min(chunk, t - start);
    SequenceStep seq;
    seq.tokens.assign(n, 0);
    seq.num_cached = start;
    seq.block_table = blocks;
    auto in = BuildStepInputs({seq}, o.block_size, c10::Device(c10::DeviceType::CPU));
    EXPECT_TRUE(in.ok()) << in.status();
    outs.push_back(PagedAttention(q.narrow(0, start, n), k.narrow(0, start, n),
                                  v.narrow(0, start, n), cache, 0, in->metadata,
                                  1.0 / std::sqrt(double(kDim)), window));
  }
  return at::cat(outs, 0);
}

TEST(PagedAttentionTest, SlidingWindowMatchesDenseWindowedAttention) {
  at::manual_seed(5);
  const int64_t t = 17;
  const at::Tensor q = at::randn({t, kHeads, kDim});
  const at::Tensor k = at::randn({t, kKvHeads, kDim});
  const at::Tensor v = at::randn({t, kKvHeads, kDim});
  for (int64_t window : {1, 4, 5, 16, 40}) {
    const at::Tensor expected = DenseAttention(q, k, v, window);
    for (int64_t chunk : {17, 6, 1}) {
      SCOPED_TRACE(::testing::Message() << "window " << window << " chunk " << chunk);
      EXPECT_LT((ChunkedPagedAttention(q, k, v, chunk, window) - expected).abs().max()
                    .item<float>(), 1e-5);
    }
  }
  // The window changes the result once the context outgrows it.
  EXPECT_GT((DenseAttention(q, k, v, 4) - DenseAttention(q, k, v)).abs().max().item<float>(),
            1e-2);
}

TEST(PagedAttentionTest, MatchesDenseCausalAttentionForAnyChunkingAndBlocks) {
  at::manual_seed(3);
  const int64_t t = 11;
  const at::Tensor q = at::randn({t, kHeads, kDim});
  const at::Tensor k = at::randn({t, kKvHeads, kDim});
  const at::Tensor v = at::randn({t, kKvHeads, kDim});
  const at::Tensor expected = DenseAttention(q, k, v);

  for (int64_t chunk : {11, 4, 1}) {
    SCOPED_TRACE(chunk);
    EXPECT_LT((ChunkedPagedAttention(q, k, v, chunk, /*window=*/0) - expected).abs().max()
                  .item<float>(), 1e-5);
  }
}

}  // namespace
}  // namespace sllm::worker
