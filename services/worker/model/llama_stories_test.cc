// stories260K against karpathy's llama2.c run.c (reference/greedy_reference.json and the raw
// float32 logits of every position).
#include <iostream>

#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/tensor.h>
#include <ATen/ops/topk.h>

#include "gtest/gtest.h"
#include "services/worker/model/model_test_util.h"

namespace sllm::worker {
namespace {

using namespace ::sllm::worker::testing;  // NOLINT

constexpr int64_t kPositions = 64;
constexpr int64_t kVocab = 512;
// Max |bf16 logit - run.c float32 logit| allowed (see Bfloat16LogitsStayCloseToLlama2c).
constexpr float kBf16Tolerance = 0.5f;

struct StoriesCase {
  std::string tag;
  std::vector<int64_t> prompt;    // BOS + prompt tokens.
  std::vector<int64_t> expected;  // Greedy continuation.
  at::Tensor logits;              // run.c's float32 [64, 512].
};

std::vector<StoriesCase> StoriesCases() {
  const auto ref = ReadJsonFile(kStoriesDir + "/reference/greedy_reference.json");
  std::vector<StoriesCase> cases;
  for (const auto& c : ref["cases"]) {
    StoriesCase sc;
    sc.tag = c["tag"].get<std::string>();
    const std::vector<int64_t> ids = Ids(c["ids"]);
    const size_t n_prompt = c["n_prompt"].get<size_t>();
    sc.prompt.assign(ids.begin(), ids.begin() + n_prompt);
    sc.expected.assign(ids.begin() + n_prompt, ids.end());
    sc.logits = ReadF32File(kStoriesDir + "/reference/logits_" + sc.tag + ".f32", kPositions, kVocab);
    cases.push_back(std::move(sc));
  }
  return cases;
}

float MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<float>();
}

TEST(LlamaStoriesTest, Float32GreedyIdsAndLogitsEqualLlama2c) {
  LoadedModel loaded = LoadTestModel(kStoriesDir, at::kFloat);
  const auto cases = StoriesCases();
  ASSERT_EQ(cases.size(), 3u);
  for (const StoriesCase& c : cases) {
    SCOPED_TRACE(c.tag);
    ASSERT_EQ(c.prompt.size(), 5u);
    ASSERT_EQ(c.expected.size(), 60u);
    GreedyOptions options;
    options.max_new_tokens = static_cast<int64_t>(c.expected.size());
    options.return_logits = true;
    const GreedyResult result = Greedy(*loaded.model, c.prompt, options);
    EXPECT_EQ(result.tokens, c.expected);
    ASSERT_EQ(result.logits.sizes(), c.logits.sizes());
    // Both sides compute in float32 with different summation orders (BLAS vs run.c's loops);
    // logits are O(10), so float32 rounding differences stay around 1e-5.
    const float diff = MaxAbsDiff(result.logits, c.logits);
    std::cout << "[stories260K float32 " << c.tag << "] max |logit - run.c| = " << diff << "\n";
    EXPECT_LT(diff, 1e-4);
  }
}

// bfloat16 weights and activations drift from float32: compare logits under teacher forcing
// (the reference ids as input) within a tolerance, and require the same argmax wherever
// run.c's top-1/top-2 margin is clearly larger than that tolerance.
TEST(LlamaStoriesTest, Bfloat16LogitsStayCloseToLlama2c) {
  LoadedModel loaded = LoadTestModel(kStoriesDir, at::kBFloat16);
  for (const StoriesCase& c : StoriesCases()) {
    SCOPED_TRACE(c.tag);
    std::vector<int64_t> ids = c.prompt;
    ids.insert(ids.end(), c.expected.begin(), c.expected.end() - 1);  // 64 inputs.
    GreedyOptions options;
    options.max_new_tokens = 1;
    options.return_logits = true;
    const GreedyResult result = Greedy(*loaded.model, ids, options);
    ASSERT_EQ(result.logits.sizes(), c.logits.sizes());
    const float diff = MaxAbsDiff(result.logits, c.logits);
    std::cout << "[stories260K bfloat16 " << c.tag << "] max |logit - run.c| = " << diff << "\n";
    EXPECT_LT(diff, kBf16Tolerance);
    const auto [top, top_ids] = at::topk(c.logits, 2, -1);
    const at::Tensor margin = top.select(1, 0) - top.select(1, 1);
    const at::Tensor ours = result.logits.argmax(-1);
    const at::Tensor theirs = top_ids.select(1, 0);
    int64_t checked = 0;
    for (int64_t p = 0; p < kPositions; ++p) {
      if (margin[p].item<float>() < 2 * kBf16Tolerance) continue;
      ++checked;
      EXPECT_EQ(ours[p].item<int64_t>(), theirs[p].item<int64_t>()) << "position " << p;
    }
    EXPECT_GT(checked, kPositions / 2);
  }
}

}  // namespace
}  // namespace sllm::worker
