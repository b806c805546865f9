#include "services/worker/kernels/decode_attention.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "services/worker/kernels/bf16.h"
#include "services/worker/kernels/bf16_test_util.h"

namespace sllm::worker::kernels {
namespace {

using testing::ToBF16;

constexpr int64_t kBlockSize = 4;
constexpr int64_t kNumBlocks = 40;

// A cache layer of random keys and values, and sequences over shuffled blocks.
struct Fixture {
  int64_t heads, kv_heads, dim;
  std::vector<float> keys, values;  // [blocks, block_size, kv_heads, dim]
  std::vector<uint16_t> keys16, values16;
  std::vector<std::vector<int64_t>> tables;
  std::vector<int64_t> lens;
  std::vector<float> q;  // [sequences, heads, dim]

  Fixture(int64_t heads, int64_t kv_heads, int64_t dim, std::vector<int64_t> context_lens)
      : heads(heads), kv_heads(kv_heads), dim(dim), lens(std::move(context_lens)) {
    std::mt19937 rng(static_cast<uint32_t>(heads * 131 + kv_heads * 17 + dim));
    std::normal_distribution<float> normal;
    const int64_t cache = kNumBlocks * kBlockSize * kv_heads * dim;
    for (int64_t i = 0; i < cache; ++i) {
      keys16.push_back(ToBF16(normal(rng)));
      values16.push_back(ToBF16(normal(rng)));
      keys.push_back(WidenBF16(keys16.back()));
      values.push_back(WidenBF16(values16.back()));
    }
    std::vector<int64_t> blocks(kNumBlocks);
    std::iota(blocks.begin(), blocks.end(), 0);
    std::shuffle(blocks.begin(), blocks.end(), rng);
    size_t next = 0;
    for (int64_t len : lens) {
      const int64_t n = (len + kBlockSize - 1) / kBlockSize;
      tables.emplace_back(blocks.begin() + next, blocks.begin() + next + n);
      next += n;
    }
    for (size_t i = 0; i < lens.size() * heads * dim; ++i) q.push_back(normal(rng));
  }

  // float64 attention of sequence s's query head h, element d.
  double Reference(size_t s, int64_t h, int64_t d, double scale, int64_t window) const {
    const int64_t g = h / (heads / kv_heads), ctx = lens[s];
    const int64_t start = window > 0 ? std::max<int64_t>(0, ctx - window) : 0;
    auto at = [&](const std::vector<float>& cache, int64_t t, int64_t e) {
      const int64_t slot = tables[s][t / kBlockSize] * kBlockSize + t % kBlockSize;
      return double(cache[(slot * kv_heads + g) * dim + e]);
    };
    std::vector<double> p;
    for (int64_t t = start; t < ctx; ++t) {
      double dot = 0;
      for (int64_t e = 0; e < dim; ++e) dot += q[(s * heads + h) * dim + e] * at(keys, t, e);
      p.push_back(dot * scale);
    }
    const double max = *std::max_element(p.begin(), p.end());
    double sum = 0, out = 0;
    for (double& x : p) sum += (x = std::exp(x - max));
    for (int64_t t = start; t < ctx; ++t) out += p[t - start] / sum * at(values, t, d);
    return out;
  }

  std::vector<float> Run(bool bf16, float scale, int64_t window, Isa isa = Isa::kAuto) const {
    PagedKV kv;
    kv.keys = bf16 ? static_cast<const void*>(keys16.data()) : keys.data();
    kv.values = bf16 ? static_cast<const void*>(values16.data()) : values.data();
    kv.bfloat16 = bf16;
    kv.block_size = kBlockSize;
    kv.kv_heads = kv_heads;
    kv.head_dim = dim;
    std::vector<float> out(lens.size() * heads * dim, NAN);
    std::vector<DecodeQuery> queries;
    for (size_t s = 0; s < lens.size(); ++s) {
      queries.push_back({q.data() + s * heads * dim, tables[s].data(), lens[s],
                         out.data() + s * heads * dim});
    }
    DecodeAttention(queries.data(), static_cast<int64_t>(queries.size()), heads, kv, scale,
                    window, isa);
    return out;
  }
};

// (heads, kv_heads, head_dim, window)
class DecodeAttentionTest
    : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, int64_t, int64_t>> {};

TEST_P(DecodeAttentionTest, MatchesFloat64AttentionOverThePagedContext) {
  const auto [heads, kv_heads, dim, window] = GetParam();
  // Contexts: a single token, block-aligned, partial last blocks, longer than the window.
  const Fixture f(heads, kv_heads, dim, {1, 4, 7, 33, 64});
  const double scale = 1.0 / std::sqrt(double(dim));
  for (const auto& [bf16, isa] : {std::pair(false, Isa::kAuto), std::pair(true, Isa::kAuto),
                                  std::pair(false, Isa::kScalar), std::pair(true, Isa::kScalar)}) {
    SCOPED_TRACE(::testing::Message() << (bf16 ? "bfloat16" : "float32") << " cache, "
                                      << (isa == Isa::kScalar ? "portable code" : "best ISA"));
    const std::vector<float> out = f.Run(bf16, static_cast<float>(scale), window, isa);
    for (size_t s = 0; s < f.lens.size(); ++s) {
      for (int64_t h = 0; h < heads; ++h) {
        for (int64_t d = 0; d < dim; ++d) {
          ASSERT_NEAR(out[(s * heads + h) * dim + d], f.Reference(s, h, d, scale, window), 1e-5)
              << "sequence " << s << " head " << h << " element " << d;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, DecodeAttentionTest,
                         ::testing::Values(std::make_tuple(1, 1, 16, 0),
                                           std::make_tuple(2, 1, 8, 0),    // portable only
                                           std::make_tuple(8, 4, 32, 0),   // tiny's GQA
                                           std::make_tuple(8, 2, 64, 0),
                                           std::make_tuple(6, 6, 48, 0),   // no grouping
                                           std::make_tuple(8, 4, 32, 5),   // sliding window
                                           std::make_tuple(4, 1, 16, 1),
                                           std::make_tuple(4, 2, 128, 3)));

TEST(DecodeAttentionTest, TheWindowHidesOlderKeys) {
  const Fixture f(4, 2, 16, {30});
  const std::vector<float> full = f.Run(false, 0.25f, 0), windowed = f.Run(false, 0.25f, 8);
  float diff = 0;
  for (size_t i = 0; i < full.size(); ++i) diff = std::max(diff, std::abs(full[i] - windowed[i]));
  EXPECT_GT(diff, 1e-2);
}

}  // namespace
}  // namespace sllm::worker::kernels
