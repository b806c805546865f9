#include "bench/load/sse_parser.h"

#include <vector>

#include "gtest/gtest.h"

namespace sllm::loadgen {
namespace {

std::vector<SseEvent> ParseInPieces(std::string_view body, size_t piece) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) { events.push_back(e); });
  for (size_t i = 0; i < body.size(); i += piece) parser.Feed(body.substr(i, piece));
  return events;
}

TEST(SseParserTest, OpenAiStreamInAnyPieceSize) {
  const std::string body =
      "data: {\"choices\":[{\"text\":\"Once\"}]}\n\n"
      "data: {\"choices\":[{\"text\":\" upon\"}]}\n\n"
      ": keep-alive\n\n"
      "data: {\"choices\":[],\"usage\":{\"completion_tokens\":2}}\n\n"
      "data: [DONE]\n\n";
  for (size_t piece : {size_t{1}, size_t{2}, size_t{7}, body.size()}) {
    const auto events = ParseInPieces(body, piece);
    ASSERT_EQ(events.size(), 4u) << "piece " << piece;
    EXPECT_EQ(events[0].data, "{\"choices\":[{\"text\":\"Once\"}]}");
    EXPECT_EQ(events[1].data, "{\"choices\":[{\"text\":\" upon\"}]}");
    EXPECT_EQ(events[2].data, "{\"choices\":[],\"usage\":{\"completion_tokens\":2}}");
    EXPECT_EQ(events[3].data, "[DONE]");
    EXPECT_EQ(events[0].type, "");
  }
}

TEST(SseParserTest, CrLfAndCrLineEndsEvenWhenSplitBetweenPieces) {
  const std::string body = "data: a\r\n\r\ndata: b\r\rdata: c\n\n";
  for (size_t piece : {size_t{1}, size_t{3}, size_t{8}, body.size()}) {
    const auto events = ParseInPieces(body, piece);
    ASSERT_EQ(events.size(), 3u) << "piece " << piece;
    EXPECT_EQ(events[0].data, "a");
    EXPECT_EQ(events[1].data, "b");
    EXPECT_EQ(events[2].data, "c");
  }
}

TEST(SseParserTest, EventTypeIdMultiLineDataAndFieldsWithoutSpace) {
  const auto events = ParseInPieces(
      "event: response.output_text.delta\nid: 7\ndata: line1\ndata:line2\ndata\n\n", 5);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "response.output_text.delta");
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[0].data, "line1\nline2\n");
}

TEST(SseParserTest, NoEventWithoutDataOrBeforeTheBlankLine) {
  EXPECT_TRUE(ParseInPieces("event: ping\n\n: comment\n\nretry: 10\n\n", 4).empty());
  // An unfinished event is not dispatched.
  EXPECT_TRUE(ParseInPieces("data: partial\n", 3).empty());
  // Only one space after the colon is stripped.
  const auto events = ParseInPieces("data:  two spaces\n\n", 100);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, " two spaces");
}

}  // namespace
}  // namespace sllm::loadgen
