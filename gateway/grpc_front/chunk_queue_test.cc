#include "gateway/grpc_front/chunk_queue.h"

#include <string>

#include "gtest/gtest.h"

namespace sllm::gateway {
namespace {

v1::GenerateStreamResponse Chunk(const std::string& text, std::initializer_list<uint32_t> ids) {
  v1::GenerateStreamResponse c;
  c.set_request_id("r1");
  c.set_text(text);
  for (uint32_t id : ids) c.add_token_ids(id);
  return c;
}

TEST(AppendChunkTest, JoinsTextIdsLogprobsAndKeepsEchoAndFinish) {
  v1::GenerateStreamResponse first = Chunk("Hel", {1});
  first.set_prompt_text("Say hi");
  first.add_prompt_ids(7);
  first.mutable_logprobs()->add_tokens()->set_token_id(1);
  v1::GenerateStreamResponse second = Chunk("lo", {2, 3});
  second.mutable_logprobs()->add_tokens()->set_token_id(2);
  second.mutable_logprobs()->add_tokens()->set_token_id(3);
  v1::GenerateStreamResponse last = Chunk("!", {4});
  last.set_finish_reason(v1::FINISH_REASON_STOP);
  last.set_stop_sequence("\n");
  last.mutable_usage()->set_completion_tokens(4);

  v1::GenerateStreamResponse into = first;
  AppendChunk(second, &into);
  AppendChunk(last, &into);
  EXPECT_EQ(into.request_id(), "r1");
  EXPECT_EQ(into.text(), "Hello!");
  EXPECT_EQ(std::vector<uint32_t>(into.token_ids().begin(), into.token_ids().end()),
            (std::vector<uint32_t>{1, 2, 3, 4}));
  ASSERT_EQ(into.logprobs().tokens_size(), 3);
  EXPECT_EQ(into.logprobs().tokens(2).token_id(), 3u);
  EXPECT_EQ(into.prompt_text(), "Say hi");
  ASSERT_EQ(into.prompt_ids_size(), 1);
  EXPECT_EQ(into.finish_reason(), v1::FINISH_REASON_STOP);
  EXPECT_EQ(into.stop_sequence(), "\n");
  EXPECT_EQ(into.usage().completion_tokens(), 4u);
  EXPECT_FALSE(into.has_stop_token_id());
}

TEST(ChunkQueueTest, WritesEachChunkAtOnceWhileTheClientKeepsUp) {
  ChunkQueue q;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(q.Push(Chunk(std::to_string(i), {static_cast<uint32_t>(i)})));
    EXPECT_EQ(q.writing().text(), std::to_string(i));
    EXPECT_FALSE(q.WriteDone());
    EXPECT_FALSE(q.busy());
  }
  EXPECT_EQ(q.merged(), 0u);
}

TEST(ChunkQueueTest, ChunksForASlowClientJoinTheOneWaiting) {
  ChunkQueue q;
  ASSERT_TRUE(q.Push(Chunk("a", {1})));
  const v1::GenerateStreamResponse* in_flight = &q.writing();
  EXPECT_FALSE(q.Push(Chunk("b", {2})));
  EXPECT_FALSE(q.Push(Chunk("c", {3})));
  v1::GenerateStreamResponse last = Chunk("d", {4});
  last.set_finish_reason(v1::FINISH_REASON_LENGTH);
  EXPECT_FALSE(q.Push(last));
  // The chunk being written is untouched while gRPC holds it.
  EXPECT_EQ(&q.writing(), in_flight);
  EXPECT_EQ(q.writing().text(), "a");
  EXPECT_EQ(q.merged(), 2u);

  ASSERT_TRUE(q.WriteDone());
  EXPECT_EQ(q.writing().text(), "bcd");
  EXPECT_EQ(q.writing().token_ids_size(), 3);
  EXPECT_EQ(q.writing().finish_reason(), v1::FINISH_REASON_LENGTH);
  EXPECT_FALSE(q.WriteDone());
  EXPECT_FALSE(q.busy());
}

TEST(ChunkQueueTest, DroppingTheWaitingChunkLeavesTheWriteInFlight) {
  ChunkQueue q;
  ASSERT_TRUE(q.Push(Chunk("a", {1})));
  EXPECT_FALSE(q.Push(Chunk("b", {2})));
  q.DropWaiting();
  EXPECT_TRUE(q.busy());
  EXPECT_FALSE(q.WriteDone());
}

}  // namespace
}  // namespace sllm::gateway
