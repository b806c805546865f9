#include "services/worker/model/rotary_embedding.h"

#include <cmath>

#include <ATen/TensorOperators.h>
#include <ATen/ops/allclose.h>
#include <ATen/ops/randn.h>
#include <ATen/ops/tensor.h>

#include "gtest/gtest.h"

namespace sllm::worker {
namespace {

TEST(RotaryEmbeddingTest, DefaultInverseFrequencies) {
  const at::Tensor inv = RopeInverseFrequencies(8, 10000.0, RopeScaling());
  ASSERT_EQ(inv.size(0), 4);
  for (int64_t i = 0; i < 4; ++i) {
    EXPECT_NEAR(inv[i].item<float>(), std::pow(10000.0, -2.0 * i / 8), 1e-7);
  }
}

TEST(RotaryEmbeddingTest, Llama3ScalingOfTinyLlama3) {
  // tiny-llama3/README.md: head_dim 16, theta 500000, factor 8, low 1, high 4, original 8192
  // divide the 8 frequencies by [1, 1, 1, 1, 2.69453, 8, 8, 8].
  RopeScaling s;
  s.type = RopeScalingType::kLlama3;
  s.factor = 8;
  s.low_freq_factor = 1;
  s.high_freq_factor = 4;
  s.original_max_position_embeddings = 8192;
  const at::Tensor plain = RopeInverseFrequencies(16, 500000.0, RopeScaling());
  const at::Tensor scaled = RopeInverseFrequencies(16, 500000.0, s);
  const std::vector<double> divisors = {1, 1, 1, 1, 2.69453, 8, 8, 8};
  for (int64_t i = 0; i < 8; ++i) {
    EXPECT_NEAR(plain[i].item<float>() / scaled[i].item<float>(), divisors[i], 1e-5) << i;
  }
}

TEST(RotaryEmbeddingTest, LinearScalingDividesEveryFrequency) {
  RopeScaling s;
  s.type = RopeScalingType::kLinear;
  s.factor = 4;
  const at::Tensor plain = RopeInverseFrequencies(8, 10000.0, RopeScaling());
  EXPECT_TRUE(at::allclose(RopeInverseFrequencies(8, 10000.0, s), plain / 4.0));
}

TEST(RotaryEmbeddingTest, RotatesPairsInRotateHalfLayout) {
  RotaryEmbedding rope(4, 10000.0, RopeScaling(), c10::Device(c10::DeviceType::CPU));
  // One head, dims (0, 2) and (1, 3) are the pairs; frequencies 1 and 0.01.
  const at::Tensor x = at::tensor({1.0f, 2.0f, 3.0f, 4.0f}).view({1, 1, 4});
  const auto [cos, sin] = rope.CosSin(at::tensor({int64_t{5}}), at::kFloat);
  const at::Tensor y = RotaryEmbedding::Apply(x, cos, sin).view({4});
  const double a0 = 5.0, a1 = 5.0 * 0.01;
  EXPECT_NEAR(y[0].item<float>(), 1 * std::cos(a0) - 3 * std::sin(a0), 1e-5);
  EXPECT_NEAR(y[2].item<float>(), 3 * std::cos(a0) + 1 * std::sin(a0), 1e-5);
  EXPECT_NEAR(y[1].item<float>(), 2 * std::cos(a1) - 4 * std::sin(a1), 1e-5);
  EXPECT_NEAR(y[3].item<float>(), 4 * std::cos(a1) + 2 * std::sin(a1), 1e-5);
  // Position 0 is the identity.
  const auto [cos0, sin0] = rope.CosSin(at::tensor({int64_t{0}}), at::kFloat);
  EXPECT_TRUE(at::allclose(RotaryEmbedding::Apply(x, cos0, sin0), x));
}

}  // namespace
}  // namespace sllm::worker
