#include "services/worker/kv_cache/block_allocator.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sllm::worker {
namespace {

using ::testing::ElementsAre;

TEST(BlockAllocatorTest, AllocatesInOrderAndReusesFreedFirst) {
  BlockAllocator a(4);
  EXPECT_EQ(a.num_free(), 4);
  EXPECT_EQ(a.Allocate(), 0);
  EXPECT_EQ(a.Allocate(), 1);
  EXPECT_EQ(a.Allocate(), 2);
  EXPECT_EQ(a.num_used(), 3);
  EXPECT_DOUBLE_EQ(a.usage(), 0.75);
  a.Free(1);
  EXPECT_EQ(a.ref_count(1), 0);
  EXPECT_EQ(a.Allocate(), 1);
  EXPECT_EQ(a.Allocate(), 3);
  EXPECT_EQ(a.Allocate(), std::nullopt);
  EXPECT_EQ(a.num_free(), 0);
}

TEST(BlockAllocatorTest, AllOrNothing) {
  BlockAllocator a(3);
  std::vector<int32_t> blocks = {99};
  EXPECT_FALSE(a.Allocate(4, blocks));
  EXPECT_THAT(blocks, ElementsAre(99));
  EXPECT_EQ(a.num_free(), 3);
  EXPECT_TRUE(a.Allocate(2, blocks));
  EXPECT_THAT(blocks, ElementsAre(99, 0, 1));
  EXPECT_TRUE(a.Allocate(0, blocks));
  a.Free(absl::MakeConstSpan(blocks).subspan(1));
  EXPECT_EQ(a.num_free(), 3);
}

TEST(BlockAllocatorTest, SharedBlocksFreeAtLastReference) {
  BlockAllocator a(2);
  int32_t b = *a.Allocate();
  a.AddRef(b);
  a.AddRef(b);
  EXPECT_EQ(a.ref_count(b), 3);
  a.Free(b);
  a.Free(b);
  EXPECT_EQ(a.num_free(), 1);
  a.Free(b);
  EXPECT_EQ(a.num_free(), 2);
}

TEST(BlockAllocatorTest, EmptyAllocator) {
  BlockAllocator a(0);
  EXPECT_EQ(a.Allocate(), std::nullopt);
  EXPECT_DOUBLE_EQ(a.usage(), 0.0);
}

TEST(BlockAllocatorDeathTest, MisuseCrashes) {
  BlockAllocator a(2);
  EXPECT_DEATH(a.Free(0), "double free of KV block 0");
  EXPECT_DEATH(a.Free(7), "out of range");
  EXPECT_DEATH(a.AddRef(1), "AddRef on free KV block 1");
}

TEST(BlockAllocatorTest, BlocksForTokens) {
  EXPECT_EQ(BlocksForTokens(0, 16), 0);
  EXPECT_EQ(BlocksForTokens(1, 16), 1);
  EXPECT_EQ(BlocksForTokens(16, 16), 1);
  EXPECT_EQ(BlocksForTokens(17, 16), 2);
}

}  // namespace
}  // namespace sllm::worker
