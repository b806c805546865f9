#include "gateway/routing/router.h"

#include "gtest/gtest.h"

namespace sllm::gateway {
namespace {

ShardState State(std::string name, bool healthy, int64_t outstanding,
                 std::vector<std::string> models = {"m"}) {
  ShardState s;
  s.name = std::move(name);
  s.healthy = healthy;
  s.reported_outstanding = outstanding;
  s.models.insert(models.begin(), models.end());
  return s;
}

// Router holds a mutex (not movable): tests fill one in place.
void TwoShards(Router& r, int64_t a, int64_t b) {
  r.SetShards({"a", "b"});
  r.Update(State("a", true, a));
  r.Update(State("b", true, b));
}

TEST(RouterTest, LeastOutstandingWorkWins) {
  Router r({.affinity_slack = 100});
  TwoShards(r, 500, 100);
  const Assignment first = *r.Pick("m", 1, 50);
  EXPECT_EQ(first.shard, "b");
  // Local charges count until the next poll: b now has 100 + 50 + 400.
  const Assignment second = *r.Pick("m", 2, 400);
  EXPECT_EQ(second.shard, "b");
  EXPECT_EQ(r.Pick("m", 3, 10)->shard, "a");
  r.Release(first);
  r.Release(second);
  EXPECT_EQ(r.Pick("m", 4, 10)->shard, "b");
}

TEST(RouterTest, APollKeepsTheChargesMadeWhileItWasInFlight) {
  Router r({.affinity_slack = 0});
  TwoShards(r, 0, 0);
  // Picks of 500 tokens alternate while no poll intervenes.
  EXPECT_EQ(r.Pick("m", 1, 500)->shard, "a");
  EXPECT_EQ(r.Pick("m", 2, 500)->shard, "b");
  // A poll of a starts now; a third request goes to a while it is in flight.
  const uint64_t mark = r.PollMark();
  EXPECT_EQ(r.Pick("m", 3, 500)->shard, "a");
  // a's answer counts the first request (256 per sequence), not the third: that charge stays.
  r.Update(State("a", true, 256), mark);
  // a: 256 reported + 500 unreported; b: 0 reported + 500 unreported.
  EXPECT_EQ(r.Pick("m", 4, 500)->shard, "b");
  // A poll sent after every charge replaces them all.
  r.Update(State("a", true, 512));
  r.Update(State("b", true, 512));
  EXPECT_EQ(r.Pick("m", 5, 500)->shard, "a");
}

TEST(RouterTest, ReleasingAReportedChargeLeavesNewerOnes) {
  Router r({.affinity_slack = 0});
  TwoShards(r, 0, 1000);
  const Assignment old = *r.Pick("m", 1, 300);
  r.Update(State("a", true, 300));  // The report includes `old`.
  const Assignment fresh = *r.Pick("m", 2, 300);
  ASSERT_EQ(old.shard, "a");
  ASSERT_EQ(fresh.shard, "a");
  // `old` finishing takes nothing off: the shard's figure drops at its next report. `fresh`
  // still counts: a is at 600, above b's 550 once b's report says so.
  r.Release(old);
  r.Update(State("b", true, 550));
  EXPECT_EQ(r.Pick("m", 3, 1)->shard, "b");
  r.Release(fresh);
  r.Update(State("b", true, 550));
  EXPECT_EQ(r.Pick("m", 4, 1)->shard, "a");
}

TEST(RouterTest, PrefixAffinityWhenLoadsAreClose) {
  Router r({.affinity_slack = 100});
  TwoShards(r, 100, 150);
  EXPECT_EQ(r.Pick("m", 42, 0)->shard, "a");
  r.Update(State("a", true, 160));  // a is now busier, but within the slack.
  r.Update(State("b", true, 100));
  EXPECT_EQ(r.Pick("m", 42, 0)->shard, "a");  // Same prefix: stays on a.
  EXPECT_EQ(r.Pick("m", 7, 0)->shard, "b");   // New prefix: least loaded.
  r.Update(State("a", true, 1000));     // Far beyond the slack: load wins.
  EXPECT_EQ(r.Pick("m", 42, 0)->shard, "b");
}

TEST(RouterTest, UnhealthyExcludedAndUnknownModels) {
  Router r({.affinity_slack = 100});
  TwoShards(r, 0, 1000);
  r.Update(State("a", false, 0));
  EXPECT_EQ(r.Pick("m", 1, 0)->shard, "b");
  const std::vector<std::string> tried = {"b"};
  EXPECT_EQ(r.Pick("m", 1, 0, tried).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.Pick("other", 1, 0).status().message(), "no shard serves model 'other'");
  EXPECT_EQ(r.ServedModels(), std::vector<std::string>{"m"});
}

TEST(RouterTest, ShardListChangesKeepKnownStates) {
  Router r({.affinity_slack = 100});
  TwoShards(r, 10, 20);
  r.SetShards({"b", "c"});
  EXPECT_EQ(r.Pick("m", 1, 0)->shard, "b");  // c is not yet polled (unhealthy), a is gone.
  ASSERT_EQ(r.Snapshot().size(), 2u);
}

}  // namespace
}  // namespace sllm::gateway
