#include "services/worker/scheduler/stop_rules.h"

#include "gtest/gtest.h"

namespace sllm::worker {
namespace {

// Sequence holds an atomic (not movable): tests build it in place.
const Sequence& With(std::vector<int64_t> prompt, std::vector<int64_t> generated) {
  static Sequence s;
  s.prompt_len = static_cast<int32_t>(prompt.size());
  s.tokens = prompt;
  s.tokens.insert(s.tokens.end(), generated.begin(), generated.end());
  return s;
}

StoppingCriteria Criteria() {
  StoppingCriteria c;
  c.eos_ids = {2, 7};
  c.max_new_tokens = 4;
  c.max_model_len = 10;
  return c;
}

TEST(StopRulesTest, EosAnyOfTheIds) {
  EXPECT_EQ(CheckStop(With({1}, {5}), Criteria()), FinishReason::kNone);
  EXPECT_EQ(CheckStop(With({1}, {5, 7}), Criteria()), FinishReason::kEos);
  EXPECT_EQ(CheckStop(With({1}, {2}), Criteria()), FinishReason::kEos);
  EXPECT_EQ(CheckStop(With({2}, {}), Criteria()), FinishReason::kNone);  // EOS in the prompt.
}

TEST(StopRulesTest, IgnoreEosAndMinTokens) {
  StoppingCriteria c = Criteria();
  c.ignore_eos = true;
  EXPECT_EQ(CheckStop(With({1}, {2}), c), FinishReason::kNone);
  c.stop_token_ids = {9};
  EXPECT_EQ(CheckStop(With({1}, {9}), c), FinishReason::kStop);  // Stop ids still apply.
  c = Criteria();
  c.min_new_tokens = 2;
  EXPECT_EQ(CheckStop(With({1}, {2}), c), FinishReason::kNone);
  EXPECT_EQ(CheckStop(With({1}, {3, 2}), c), FinishReason::kEos);
}

TEST(StopRulesTest, MaxNewTokensAndContext) {
  EXPECT_EQ(CheckStop(With({1}, {3, 3, 3, 3}), Criteria()), FinishReason::kLength);
  EXPECT_EQ(CheckStop(With({1, 1, 1, 1, 1, 1, 1, 1, 1}, {3}), Criteria()), FinishReason::kLength);
  EXPECT_EQ(CheckStop(With({1}, {3, 3, 2, 3}), Criteria()), FinishReason::kLength);
}

}  // namespace
}  // namespace sllm::worker
