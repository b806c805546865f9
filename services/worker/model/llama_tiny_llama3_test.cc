// tiny-llama3 (GQA, head_dim 16, llama3 rope scaling, tied embeddings, bf16 weights) against
// llama.cpp's greedy ids (reference/greedy_llamacpp.json: float32 compute, float32 KV cache).
#include <iostream>

#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/topk.h>

#include "gtest/gtest.h"
#include "services/worker/model/model_test_util.h"

namespace sllm::worker {
namespace {

using namespace ::sllm::worker::testing;  // NOLINT

nlohmann::json Reference() {
  return ReadJsonFile(kTinyLlama3Dir + "/reference/greedy_llamacpp.json");
}

TEST(LlamaTinyLlama3Test, Float32GreedyIdsEqualLlamaCpp) {
  LoadedModel loaded = LoadTestModel(kTinyLlama3Dir, at::kFloat);
  const auto ref = Reference();
  ASSERT_EQ(ref["cases"].size(), 6u);
  for (const auto& c : ref["cases"]) {
    SCOPED_TRACE(c["prompt"].get<std::string>());
    GreedyOptions options;
    options.max_new_tokens = static_cast<int64_t>(c["expected"].size());
    const GreedyResult result = Greedy(*loaded.model, Ids(c["prompt_ids"]), options);
    EXPECT_EQ(result.tokens, Ids(c["expected"]));
  }
}

// The first case lists llama.cpp's five best (id, logit) pairs at each of its 48 steps.
TEST(LlamaTinyLlama3Test, Float32Top5LogitsEqualLlamaCpp) {
  LoadedModel loaded = LoadTestModel(kTinyLlama3Dir, at::kFloat);
  const auto ref = Reference();
  const auto& c = ref["cases"][0];
  ASSERT_TRUE(c.contains("top5"));
  const std::vector<int64_t> prompt = Ids(c["prompt_ids"]);
  GreedyOptions options;
  options.max_new_tokens = static_cast<int64_t>(c["expected"].size());
  options.return_logits = true;
  const GreedyResult result = Greedy(*loaded.model, prompt, options);
  float max_diff = 0;
  for (size_t step = 0; step < c["top5"].size(); ++step) {
    const at::Tensor row = result.logits[static_cast<int64_t>(prompt.size() - 1 + step)];
    const at::Tensor our_top = std::get<1>(at::topk(row, 5));
    for (size_t r = 0; r < 5; ++r) {
      const int64_t id = c["top5"][step][r][0].get<int64_t>();
      const float logit = c["top5"][step][r][1].get<float>();
      EXPECT_EQ(our_top[static_cast<int64_t>(r)].item<int64_t>(), id) << "step " << step;
      max_diff = std::max(max_diff, std::abs(row[id].item<float>() - logit));
    }
  }
  std::cout << "[tiny-llama3 float32] max |top-5 logit - llama.cpp| = " << max_diff << "\n";
  // The README: llama.cpp is within 2e-4 of a float64 reference; a float32 engine ~1e-3.
  EXPECT_LT(max_diff, 1e-3);
}

// bfloat16 compute: ids must equal llama.cpp's up to the first step whose reference margin
// (top-1 minus top-2 logit) is below kMargin, where bf16 rounding may legitimately flip them.
TEST(LlamaTinyLlama3Test, Bfloat16GreedyIdsEqualLlamaCppWhileMarginsAreClear) {
  constexpr float kMargin = 1.0f;
  LoadedModel loaded = LoadTestModel(kTinyLlama3Dir, at::kBFloat16);
  int64_t compared = 0, total = 0;
  const auto ref = Reference();
  for (const auto& c : ref["cases"]) {
    SCOPED_TRACE(c["prompt"].get<std::string>());
    const std::vector<int64_t> expected = Ids(c["expected"]);
    size_t clear = 0;  // Steps before the first small margin.
    while (clear < expected.size() && c["margins"][clear].get<float>() >= kMargin) ++clear;
    GreedyOptions options;
    options.max_new_tokens = static_cast<int64_t>(std::max<size_t>(clear, 1));
    const GreedyResult result = Greedy(*loaded.model, Ids(c["prompt_ids"]), options);
    ASSERT_GE(result.tokens.size(), clear);
    for (size_t step = 0; step < clear; ++step) {
      ASSERT_EQ(result.tokens[step], expected[step]) << "step " << step;
    }
    compared += static_cast<int64_t>(clear);
    total += static_cast<int64_t>(expected.size());
  }
  std::cout << "[tiny-llama3 bfloat16] compared " << compared << " of " << total << " ids\n";
  EXPECT_GT(compared, total / 2);
}

}  // namespace
}  // namespace sllm::worker
