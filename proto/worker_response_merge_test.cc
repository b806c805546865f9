#include "proto/worker_response_merge.h"

#include "gtest/gtest.h"

namespace sllm {
namespace {

TEST(AppendWorkerResponseTest, JoinsTokensAndStepsAndKeepsFirstAndLastFields) {
  v1::WorkerGenerateResponse first;
  first.add_token_ids(5);
  first.add_logprobs()->set_token_id(5);
  first.mutable_timings()->set_time_to_first_token_us(900);
  first.mutable_timings()->set_queue_us(40);
  first.mutable_timings()->set_step_us(300);
  first.mutable_timings()->set_batch_size(1);
  v1::WorkerGenerateResponse middle;
  middle.add_token_ids(6);
  middle.add_logprobs()->set_token_id(6);
  middle.mutable_timings()->set_step_us(200);
  middle.mutable_timings()->set_batch_size(3);
  v1::WorkerGenerateResponse last;
  last.add_token_ids(7);
  last.add_logprobs()->set_token_id(7);
  last.mutable_timings()->set_step_us(100);
  last.set_finish_reason(v1::FINISH_REASON_STOP);
  last.set_stop_token_id(7);
  last.mutable_usage()->set_completion_tokens(3);

  v1::WorkerGenerateResponse into = first;
  AppendWorkerResponse(middle, &into);
  AppendWorkerResponse(last, &into);
  EXPECT_EQ(std::vector<uint32_t>(into.token_ids().begin(), into.token_ids().end()),
            (std::vector<uint32_t>{5, 6, 7}));
  ASSERT_EQ(into.logprobs_size(), 3);
  EXPECT_EQ(into.logprobs(1).token_id(), 6u);
  EXPECT_EQ(into.timings().time_to_first_token_us(), 900u);
  EXPECT_EQ(into.timings().queue_us(), 40u);
  EXPECT_EQ(into.timings().step_us(), 600u);
  EXPECT_EQ(into.timings().batch_size(), 3u);  // The last step's that had one.
  EXPECT_EQ(into.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(into.stop_token_id(), 7u);
  EXPECT_EQ(into.usage().completion_tokens(), 3u);
}

}  // namespace
}  // namespace sllm
