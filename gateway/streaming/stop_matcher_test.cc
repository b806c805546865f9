#include "gateway/streaming/stop_matcher.h"

#include "gtest/gtest.h"

namespace sllm::gateway {
namespace {

// Feeds `deltas`; returns everything sent and checks no sent prefix contains a stop.
std::string FeedAll(StopMatcher& m, const std::vector<std::string>& deltas,
                std::vector<std::string>* sent = nullptr) {
  std::string out;
  for (const auto& d : deltas) {
    const std::string s = m.Feed(d);
    if (sent) sent->push_back(s);
    out += s;
  }
  return out + m.Flush();
}

TEST(StopMatcherTest, StopSpanningDeltasNeverLeaks) {
  StopMatcher m({"\nUser:"});
  std::vector<std::string> sent;
  EXPECT_EQ(FeedAll(m, {"Hello", " there\n", "Us", "er", ": hi"}, &sent), "Hello there");
  EXPECT_EQ(sent[1], " there");  // "\n" held back: it may start the stop string.
  EXPECT_EQ(sent[2], "");
  EXPECT_TRUE(m.matched());
  EXPECT_EQ(m.matched_stop(), "\nUser:");
}

TEST(StopMatcherTest, HeldTextIsReleasedWhenItIsNotAStop) {
  StopMatcher m({"END"});
  std::vector<std::string> sent;
  EXPECT_EQ(FeedAll(m, {"the E", "N", "D?", "no: ENx"}, &sent), "the ");
  StopMatcher n({"END"});
  EXPECT_EQ(FeedAll(n, {"the E", "N", "x", " EN"}), "the ENx EN");  // Flush releases "EN".
  EXPECT_FALSE(n.matched());
}

TEST(StopMatcherTest, EarliestMatchWinsAndIncludeKeepsIt) {
  StopMatcher m({"bb", "ab"}, /*include_stop_in_output=*/true);
  EXPECT_EQ(FeedAll(m, {"xxab", "b"}), "xxab");
  EXPECT_EQ(m.matched_stop(), "ab");
}

TEST(StopMatcherTest, KoreanStopsCutOnCharacterBoundaries) {
  StopMatcher m({"안녕히"});
  std::vector<std::string> sent;
  EXPECT_EQ(FeedAll(m, {"좋아요 안", "녕", "하세요"}, &sent), "좋아요 안녕하세요");
  EXPECT_EQ(sent[0], "좋아요 ");
  StopMatcher k({"안녕히"});
  EXPECT_EQ(FeedAll(k, {"네 안녕", "히 가세요"}), "네 ");
}

TEST(StopMatcherTest, NothingAfterAMatch) {
  StopMatcher m({"."});
  EXPECT_EQ(m.Feed("One. Two."), "One");
  EXPECT_EQ(m.Feed("Three"), "");
  EXPECT_EQ(m.Flush(), "");
}

}  // namespace
}  // namespace sllm::gateway
