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
  EXPECT_EQ(*r.Pick("m", 1, 50), "b");
  // Local charges count until the next poll: b now has 100 + 50 + 400.
  EXPECT_EQ(*r.Pick("m", 2, 400), "b");
  EXPECT_EQ(*r.Pick("m", 3, 10), "a");
  r.Release("b", 450);
  EXPECT_EQ(*r.Pick("m", 4, 10), "b");
}

TEST(RouterTest, PrefixAffinityWhenLoadsAreClose) {
  Router r({.affinity_slack = 100});
  TwoShards(r, 100, 150);
  EXPECT_EQ(*r.Pick("m", 42, 0), "a");
  r.Update(State("a", true, 160));  // a is now busier, but within the slack.
  r.Update(State("b", true, 100));
  EXPECT_EQ(*r.Pick("m", 42, 0), "a");  // Same prefix: stays on a.
  EXPECT_EQ(*r.Pick("m", 7, 0), "b");   // New prefix: least loaded.
  r.Update(State("a", true, 1000));     // Far beyond the slack: load wins.
  EXPECT_EQ(*r.Pick("m", 42, 0), "b");
}

TEST(RouterTest, UnhealthyExcludedAndUnknownModels) {
  Router r({.affinity_slack = 100});
  TwoShards(r, 0, 1000);
  r.Update(State("a", false, 0));
  EXPECT_EQ(*r.Pick("m", 1, 0), "b");
  const std::vector<std::string> tried = {"b"};
  EXPECT_EQ(r.Pick("m", 1, 0, tried).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.Pick("other", 1, 0).status().message(), "no shard serves model 'other'");
  EXPECT_EQ(r.ServedModels(), std::vector<std::string>{"m"});
}

TEST(RouterTest, ShardListChangesKeepKnownStates) {
  Router r({.affinity_slack = 100});
  TwoShards(r, 10, 20);
  r.SetShards({"b", "c"});
  EXPECT_EQ(*r.Pick("m", 1, 0), "b");  // c is not yet polled (unhealthy), a is gone.
  ASSERT_EQ(r.Snapshot().size(), 2u);
}

}  // namespace
}  // namespace sllm::gateway
