// EXAONE 4, Phi-2 and Mistral against the greedy references of their tiny synthetic models
// (reference/greedy.json: an independent float64 transcription of transformers' modeling code,
// cross-checked with llama.cpp; see each model's README). Every case runs past the models'
// sliding windows (16 tokens for tiny-exaone4's local layers, 32 for tiny-mistral).
#include <cctype>
#include <iostream>

#include "gtest/gtest.h"
#include "services/worker/model/model_test_util.h"

namespace sllm::worker {
namespace {

using namespace ::sllm::worker::testing;  // NOLINT

struct SeedModel {
  std::string name;
  std::string architecture;
};

class SeedArchitectureTest : public ::testing::TestWithParam<SeedModel> {
 protected:
  std::string Dir() const { return std::string(SLLM_TESTDATA_DIR) + "/models/" + GetParam().name; }
};

TEST_P(SeedArchitectureTest, Float32GreedyIdsEqualTheReference) {
  LoadedModel loaded = LoadTestModel(Dir(), at::kFloat);
  ASSERT_EQ(loaded.config.architecture, GetParam().architecture);
  const auto ref = ReadJsonFile(Dir() + "/reference/greedy.json");
  ASSERT_GE(ref["cases"].size(), 4u);
  int64_t ids = 0;
  for (const auto& c : ref["cases"]) {
    SCOPED_TRACE(c["tag"].get<std::string>());
    const std::vector<int64_t> prompt = Ids(c["prompt_ids"]);
    const std::vector<int64_t> expected = Ids(c["expected"]);
    GreedyOptions options;
    options.max_new_tokens = static_cast<int64_t>(expected.size());
    EXPECT_EQ(Greedy(*loaded.model, prompt, options).tokens, expected);
    // Chunked prefill over small blocks: the window masks hold across chunk boundaries.
    options.prefill_chunk = 5;
    EXPECT_EQ(Greedy(*loaded.model, prompt, options, /*block_size=*/4).tokens, expected);
    ids += static_cast<int64_t>(expected.size());
  }
  std::cout << "[" << GetParam().name << " float32] " << ids << " ids equal the reference\n";
}

INSTANTIATE_TEST_SUITE_P(
    Models, SeedArchitectureTest,
    ::testing::Values(SeedModel{"tiny-exaone4", "Exaone4ForCausalLM"},
                      SeedModel{"tiny-phi2", "PhiForCausalLM"},
                      SeedModel{"tiny-mistral", "MistralForCausalLM"}),
    [](const ::testing::TestParamInfo<SeedModel>& info) {
      std::string name;
      for (char ch : info.param.name) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
      return name;
    });

}  // namespace
}  // namespace sllm::worker
