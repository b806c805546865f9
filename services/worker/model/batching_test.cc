// The step interface with more than the simplest layout: chunked prefill, block sizes, cache
// reuse, and a continuous batch mixing a prefill and a decode in one Forward.
#include <ATen/TensorOperators.h>
#include <ATen/ops/abs.h>
#include <ATen/ops/cat.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/worker/model/attention_metadata.h"
#include "services/worker/model/model_test_util.h"

namespace sllm::worker {
namespace {

using namespace ::sllm::worker::testing;  // NOLINT
using ::testing::HasSubstr;

const std::vector<int64_t> kPromptA = {1, 403, 407, 261, 378};  // "Once upon a time"
const std::vector<int64_t> kPromptB = {1, 317, 391, 266, 267, 298, 414};

float MaxAbsDiff(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<float>();
}

class BatchingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    loaded_ = new LoadedModel(LoadTestModel(kStoriesDir, at::kFloat));
  }
  static void TearDownTestSuite() {
    delete loaded_;
    loaded_ = nullptr;
  }
  CausalLM& model() { return *loaded_->model; }

  static LoadedModel* loaded_;
};

LoadedModel* BatchingTest::loaded_ = nullptr;

TEST_F(BatchingTest, ChunkedPrefillAndBlockSizesGiveTheSameResult) {
  GreedyOptions options;
  options.max_new_tokens = 40;
  options.return_logits = true;
  const GreedyResult base = Greedy(model(), kPromptB, options, /*block_size=*/16);
  for (int64_t block_size : {1, 3, 16, 64}) {
    for (int64_t chunk : {0, 1, 3}) {
      SCOPED_TRACE(::testing::Message() << "block_size " << block_size << " chunk " << chunk);
      options.prefill_chunk = chunk;
      const GreedyResult r = Greedy(model(), kPromptB, options, block_size);
      EXPECT_EQ(r.tokens, base.tokens);
      // Other matmul shapes sum in another order: float32 noise on logits of magnitude ~10.
      EXPECT_LT(MaxAbsDiff(r.logits, base.logits), 5e-5);
    }
  }
}

TEST_F(BatchingTest, StopIdsEndGeneration) {
  GreedyOptions options;
  options.max_new_tokens = 40;
  const GreedyResult full = Greedy(model(), kPromptA, options);
  ASSERT_EQ(full.tokens.size(), 40u);
  options.stop_ids = {full.tokens[6]};
  const GreedyResult stopped = Greedy(model(), kPromptA, options);
  const auto first = std::find(full.tokens.begin(), full.tokens.end(), full.tokens[6]);
  EXPECT_EQ(stopped.tokens, std::vector<int64_t>(full.tokens.begin(), first + 1));
}

TEST_F(BatchingTest, ReusesFreedBlocks) {
  KVCacheOptions o = model().KVCacheLayout();
  o.block_size = 4;
  o.num_blocks = 8;  // 32 positions.
  KVCache cache(o);
  BlockAllocator allocator(8);
  GreedyOptions options;
  options.max_new_tokens = 20;
  auto first = GenerateGreedy(model(), cache, allocator, kPromptA, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(allocator.num_free(), 8);
  auto second = GenerateGreedy(model(), cache, allocator, kPromptA, options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->tokens, second->tokens);

  options.max_new_tokens = 40;  // Needs 11 blocks.
  auto exhausted = GenerateGreedy(model(), cache, allocator, kPromptA, options);
  EXPECT_EQ(exhausted.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(allocator.num_free(), 8);  // Freed on error too.

  options.max_new_tokens = 600;
  auto too_long = GenerateGreedy(model(), cache, allocator, kPromptA, options);
  EXPECT_THAT(too_long.status().message(), HasSubstr("max_position_embeddings 512"));
  EXPECT_EQ(GenerateGreedy(model(), cache, allocator, {}, options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Sequence A decodes (its prompt already cached) while B prefills in the same step; each gets
// the logits it gets alone.
TEST_F(BatchingTest, MixedPrefillAndDecodeInOneStep) {
  KVCacheOptions o = model().KVCacheLayout();
  o.block_size = 4;
  o.num_blocks = 16;
  KVCache cache(o);
  const c10::Device cpu(c10::DeviceType::CPU);

  // Alone: A's prompt, then A's next token; B's prompt.
  auto a_prefill = BuildStepInputs({{kPromptA, 0, {5, 2}, false}}, 4, cpu);
  ASSERT_TRUE(a_prefill.ok()) << a_prefill.status();
  const at::Tensor a_logits =
      model().Forward(a_prefill->tokens, a_prefill->positions, a_prefill->metadata, cache);
  const int64_t a_next = a_logits[0].argmax().item<int64_t>();
  auto a_decode = BuildStepInputs({{{a_next}, 5, {5, 2}, false}}, 4, cpu);
  ASSERT_TRUE(a_decode.ok());
  const at::Tensor a_alone =
      model().Forward(a_decode->tokens, a_decode->positions, a_decode->metadata, cache);
  auto b_prefill = BuildStepInputs({{kPromptB, 0, {9, 0}, true}}, 4, cpu);
  ASSERT_TRUE(b_prefill.ok());
  const at::Tensor b_alone =
      model().Forward(b_prefill->tokens, b_prefill->positions, b_prefill->metadata, cache);

  // Together, into other blocks for B; A's decode rewrites its own slot with the same values.
  auto both = BuildStepInputs(
      {{{a_next}, 5, {5, 2}, false}, {kPromptB, 0, {11, 7, 3}, true}}, 4, cpu);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(both->metadata.logits_indices.size(0), 1 + static_cast<int64_t>(kPromptB.size()));
  const at::Tensor together =
      model().Forward(both->tokens, both->positions, both->metadata, cache);
  EXPECT_LT(MaxAbsDiff(together, at::cat({a_alone, b_alone}, 0)), 5e-5);
}

TEST_F(BatchingTest, StepInputsValidateSequences) {
  const c10::Device cpu(c10::DeviceType::CPU);
  auto short_table = BuildStepInputs({{{1, 2, 3, 4, 5}, 0, {0}, false}}, 4, cpu);
  EXPECT_THAT(short_table.status().message(), HasSubstr("has 1 blocks but 5 tokens need 2"));
  auto empty = BuildStepInputs({{{}, 3, {0}, false}}, 4, cpu);
  EXPECT_THAT(empty.status().message(), HasSubstr("no tokens"));
  auto ok = BuildStepInputs({{{7, 8}, 3, {4, 6}, false}}, 4, cpu);
  ASSERT_TRUE(ok.ok());
  // Positions 3 and 4: slot 4*4+3 = 19, then block 6 offset 0 = 24.
  EXPECT_EQ(ok->metadata.slot_mapping[0].item<int64_t>(), 19);
  EXPECT_EQ(ok->metadata.slot_mapping[1].item<int64_t>(), 24);
  EXPECT_EQ(ok->positions[1].item<int64_t>(), 4);
  EXPECT_EQ(ok->metadata.sequences[0].context_len, 5);
  EXPECT_EQ(ok->metadata.logits_indices.size(0), 1);
}

}  // namespace
}  // namespace sllm::worker
