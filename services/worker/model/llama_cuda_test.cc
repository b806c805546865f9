// The parity checks on a CUDA device (skipped when libtorch has no CUDA or no GPU is present):
// float32 must match the references as on the CPU; bfloat16 and float16 within tolerances.
#include <iostream>

#include <ATen/Context.h>
#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>

#include "gtest/gtest.h"
#include "services/worker/model/model_test_util.h"

namespace sllm::worker {
namespace {

using namespace ::sllm::worker::testing;  // NOLINT

class LlamaCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA device";
  }
  const c10::Device cuda_{c10::DeviceType::CUDA, 0};
};

// stories260K, teacher-forced on run.c's ids: max |logit - run.c| over the three cases, and
// the greedy ids of a free run.
float StoriesMaxDiff(CausalLM& model, bool check_ids) {
  const auto ref = ReadJsonFile(kStoriesDir + "/reference/greedy_reference.json");
  float max_diff = 0;
  for (const auto& c : ref["cases"]) {
    const std::vector<int64_t> ids = Ids(c["ids"]);
    const size_t n_prompt = c["n_prompt"].get<size_t>();
    const at::Tensor expected = ReadF32File(
        kStoriesDir + "/reference/logits_" + c["tag"].get<std::string>() + ".f32", 64, 512);
    GreedyOptions options;
    options.max_new_tokens = 1;
    options.return_logits = true;
    const GreedyResult forced =
        Greedy(model, std::vector<int64_t>(ids.begin(), ids.end() - 1), options);
    max_diff = std::max(max_diff, (forced.logits - expected).abs().max().item<float>());
    if (check_ids) {
      options.max_new_tokens = static_cast<int64_t>(ids.size() - n_prompt);
      options.return_logits = false;
      const GreedyResult run =
          Greedy(model, std::vector<int64_t>(ids.begin(), ids.begin() + n_prompt), options);
      EXPECT_EQ(run.tokens, std::vector<int64_t>(ids.begin() + n_prompt, ids.end()));
    }
  }
  return max_diff;
}

// tiny-llama3: greedy ids compared while llama.cpp's margin is >= min_margin; returns how many.
int64_t TinyLlama3Compared(CausalLM& model, float min_margin) {
  const auto ref = ReadJsonFile(kTinyLlama3Dir + "/reference/greedy_llamacpp.json");
  int64_t compared = 0;
  for (const auto& c : ref["cases"]) {
    const std::vector<int64_t> expected = Ids(c["expected"]);
    GreedyOptions options;
    options.max_new_tokens = static_cast<int64_t>(expected.size());
    const GreedyResult run = Greedy(model, Ids(c["prompt_ids"]), options);
    for (size_t step = 0; step < expected.size(); ++step) {
      if (c["margins"][step].get<float>() < min_margin) break;
      EXPECT_EQ(run.tokens[step], expected[step]) << c["prompt"] << " step " << step;
      ++compared;
    }
  }
  return compared;
}

TEST_F(LlamaCudaTest, Float32MatchesTheReferences) {
  LoadedModel stories = LoadTestModel(kStoriesDir, at::kFloat, cuda_);
  const float diff = StoriesMaxDiff(*stories.model, /*check_ids=*/true);
  std::cout << "[cuda stories260K float32] max |logit - run.c| = " << diff << "\n";
  EXPECT_LT(diff, 1e-4);
  LoadedModel tiny = LoadTestModel(kTinyLlama3Dir, at::kFloat, cuda_);
  EXPECT_EQ(TinyLlama3Compared(*tiny.model, 0.0f), 288);
}

TEST_F(LlamaCudaTest, HalfPrecisionStaysClose) {
  for (c10::ScalarType dtype : {at::kBFloat16, at::kHalf}) {
    SCOPED_TRACE(c10::toString(dtype));
    LoadedModel stories = LoadTestModel(kStoriesDir, dtype, cuda_);
    const float diff = StoriesMaxDiff(*stories.model, /*check_ids=*/false);
    std::cout << "[cuda stories260K " << dtype << "] max |logit - run.c| = " << diff << "\n";
    EXPECT_LT(diff, 0.5);
    LoadedModel tiny = LoadTestModel(kTinyLlama3Dir, dtype, cuda_);
    const int64_t compared = TinyLlama3Compared(*tiny.model, 1.0f);
    std::cout << "[cuda tiny-llama3 " << dtype << "] ids compared: " << compared << "\n";
    EXPECT_GT(compared, 144);
  }
}

}  // namespace
}  // namespace sllm::worker
