// The scheduler driven by a fake model: every scheduled sequence that samples gets a token.
#include "services/worker/scheduler/scheduler.h"

#include "gtest/gtest.h"

namespace sllm::worker {
namespace {

std::shared_ptr<Sequence> Seq(uint64_t id, int32_t prompt_len, int32_t max_new, int64_t first = 0) {
  auto s = std::make_shared<Sequence>();
  s->id = id;
  for (int32_t i = 0; i < prompt_len; ++i) s->tokens.push_back(first + i);
  s->prompt_len = prompt_len;
  s->max_new_tokens = max_new;
  return s;
}

// Runs one step of a fake model; returns the plan. Finished sequences are released.
StepSchedule Step(Scheduler& sched) {
  StepSchedule plan = sched.Schedule();
  for (const ScheduledSequence& s : plan.sequences) {
    if (!s.samples) continue;
    s.seq->tokens.push_back(1000 + s.seq->num_generated());
    if (s.seq->num_generated() >= s.seq->max_new_tokens) sched.Finish(s.seq, FinishReason::kLength);
  }
  return plan;
}

SchedulerOptions Options() {
  SchedulerOptions o;
  o.block_size = 4;
  o.max_num_batched_tokens = 16;
  o.max_num_seqs = 8;
  o.max_waiting = 4;
  o.max_model_len = 256;
  return o;
}

TEST(SchedulerTest, NewRequestsJoinBetweenSteps) {
  BlockAllocator alloc(64);
  Scheduler sched(Options(), alloc);
  auto a = Seq(1, 3, 5);
  ASSERT_TRUE(sched.Add(a).ok());
  StepSchedule p1 = Step(sched);
  ASSERT_EQ(p1.sequences.size(), 1u);
  EXPECT_EQ(p1.sequences[0].num_tokens, 3);  // Whole prompt.
  auto b = Seq(2, 2, 3, 100);
  ASSERT_TRUE(sched.Add(b).ok());
  StepSchedule p2 = Step(sched);
  ASSERT_EQ(p2.sequences.size(), 2u);  // a decodes, b prefills, in one step.
  EXPECT_EQ(p2.sequences[0].seq, a.get());
  EXPECT_EQ(p2.sequences[0].num_tokens, 1);
  EXPECT_EQ(p2.sequences[1].num_tokens, 2);
  while (!sched.idle()) Step(sched);
  EXPECT_EQ(a->num_generated(), 5);
  EXPECT_EQ(b->num_generated(), 3);
  EXPECT_EQ(alloc.num_used(), static_cast<int32_t>(sched.prefix_cache().size()));
}

TEST(SchedulerTest, LongPromptIsChunkedAndDecodesKeepRunning) {
  BlockAllocator alloc(64);
  Scheduler sched(Options(), alloc);
  auto a = Seq(1, 2, 20);
  ASSERT_TRUE(sched.Add(a).ok());
  Step(sched);
  auto big = Seq(2, 60, 1, 500);
  ASSERT_TRUE(sched.Add(big).ok());
  int steps = 0;
  while (big->num_generated() == 0) {
    StepSchedule p = Step(sched);
    ++steps;
    ASSERT_EQ(p.sequences[0].seq, a.get());  // The decode is served every step ...
    EXPECT_EQ(p.sequences[0].num_tokens, 1);
    EXPECT_LE(p.num_tokens, 16);             // ... within the budget.
  }
  EXPECT_EQ(steps, 4);  // 60 prompt tokens in chunks of 15.
}

TEST(SchedulerTest, AdmissionControl) {
  BlockAllocator alloc(8);  // 32 tokens of cache.
  Scheduler sched(Options(), alloc);
  const absl::Status too_big = sched.Add(Seq(1, 30, 10));
  EXPECT_EQ(too_big.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(too_big.message(),
            "request needs 40 tokens of KV cache (10 blocks) but the whole cache holds 8 blocks");
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(sched.Add(Seq(10 + i, 2, 2)).ok());
  const absl::Status full = sched.Add(Seq(20, 2, 2));
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(full.message(), "worker overloaded: 4 requests are already waiting (limit 4)");
}

TEST(SchedulerTest, PreemptsWhenBlocksRunOutAndEverythingCompletes) {
  BlockAllocator alloc(6);  // 24 tokens: not enough for three 12-token sequences at once.
  SchedulerOptions o = Options();
  o.enable_prefix_cache = false;
  Scheduler sched(o, alloc);
  std::vector<std::shared_ptr<Sequence>> seqs;
  for (int i = 0; i < 3; ++i) {
    seqs.push_back(Seq(i, 4, 8, 100 * i));
    ASSERT_TRUE(sched.Add(seqs.back()).ok());
  }
  for (int step = 0; step < 200 && !sched.idle(); ++step) Step(sched);
  EXPECT_TRUE(sched.idle());
  EXPECT_GT(sched.num_preemptions(), 0);
  for (const auto& s : seqs) EXPECT_EQ(s->num_generated(), 8);
  EXPECT_EQ(alloc.num_used(), 0);
}

TEST(SchedulerTest, CancelledSequencesLeaveAtTheNextStep) {
  BlockAllocator alloc(16);
  Scheduler sched(Options(), alloc);
  auto a = Seq(1, 5, 40);
  ASSERT_TRUE(sched.Add(a).ok());
  Step(sched);
  Step(sched);
  EXPECT_GT(alloc.num_used(), 0);
  a->cancelled = true;
  StepSchedule p = sched.Schedule();
  EXPECT_TRUE(p.empty());
  ASSERT_EQ(p.cancelled.size(), 1u);
  EXPECT_EQ(a->finish_reason, FinishReason::kCancelled);
  EXPECT_TRUE(sched.idle());
  // Only the prefix cache keeps a block: the prompt's one full block.
  EXPECT_EQ(sched.prefix_cache().size(), 1u);
  EXPECT_EQ(alloc.num_used(), 1);
}

TEST(SchedulerTest, PrefixCacheReusesFullPromptBlocks) {
  BlockAllocator alloc(32);
  Scheduler sched(Options(), alloc);
  auto a = Seq(1, 10, 2);  // Blocks [0-3] [4-7] full, [8-9] partial.
  ASSERT_TRUE(sched.Add(a).ok());
  while (!sched.idle()) Step(sched);
  auto b = Seq(2, 10, 2);  // Same prompt.
  ASSERT_TRUE(sched.Add(b).ok());
  StepSchedule p = Step(sched);
  ASSERT_EQ(p.sequences.size(), 1u);
  EXPECT_EQ(p.sequences[0].start, 8);  // Two cached blocks.
  EXPECT_EQ(p.sequences[0].num_tokens, 2);
  EXPECT_EQ(b->num_cached_prompt, 8);
  EXPECT_EQ(sched.prefix_cache().hits(), 2);
  auto c = Seq(3, 10, 2, 1);  // Different tokens: no hit.
  ASSERT_TRUE(sched.Add(c).ok());
  Step(sched);
  EXPECT_EQ(c->num_cached_prompt, 0);
  while (!sched.idle()) Step(sched);
}

}  // namespace
}  // namespace sllm::worker
