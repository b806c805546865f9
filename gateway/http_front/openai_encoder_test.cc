#include "gateway/http_front/openai_encoder.h"

#include "absl/strings/match.h"
#include "gateway/validation/error_mapping.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sllm::gateway {
namespace {

using json = nlohmann::json;

v1::GenerateStreamResponse Chunk(const std::string& text, bool last = false) {
  v1::GenerateStreamResponse c;
  c.set_text(text);
  if (last) {
    c.set_finish_reason(v1::FINISH_REASON_LENGTH);
    c.mutable_usage()->set_prompt_tokens(5);
    c.mutable_usage()->set_completion_tokens(2);
  }
  return c;
}

OpenAiRequest Request(OpenAiApi api) {
  OpenAiRequest r;
  r.api = api;
  r.pipeline.model = "m";
  r.include_usage = true;
  return r;
}

TEST(OpenAiEncoderTest, ChatBodyAndChunks) {
  OpenAiEncoder body(Request(OpenAiApi::kChatCompletions), "abc", 7);
  body.Add(Chunk("Hel"));
  body.Add(Chunk("lo", true));
  json b = json::parse(body.Body());
  EXPECT_EQ(b["id"], "chatcmpl-abc");
  EXPECT_EQ(b["created"], 7);
  EXPECT_EQ(b["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(b["choices"][0]["finish_reason"], "length");
  EXPECT_EQ(b["usage"]["total_tokens"], 7);

  OpenAiEncoder s(Request(OpenAiApi::kChatCompletions), "abc", 7);
  const std::string start = s.StreamStart();
  EXPECT_TRUE(absl::StartsWith(start, "data: {")) << start;
  EXPECT_TRUE(absl::EndsWith(start, "}\n\n"));
  EXPECT_EQ(s.StreamChunk(Chunk("")), "");  // Nothing to say.
  json delta = json::parse(s.StreamChunk(Chunk("Hel")).substr(6));
  EXPECT_EQ(delta["choices"][0]["delta"]["content"], "Hel");
  EXPECT_TRUE(delta["usage"].is_null());
  s.StreamChunk(Chunk("lo", true));
  const std::string end = s.StreamEnd();
  EXPECT_TRUE(absl::EndsWith(end, "data: [DONE]\n\n")) << end;
  EXPECT_NE(end.find("\"completion_tokens\":2"), std::string::npos);
}

TEST(OpenAiEncoderTest, ResponsesEventsAreTypedAndNumbered) {
  OpenAiEncoder s(Request(OpenAiApi::kResponses), "x", 1);
  std::string all = s.StreamStart();  // One call per statement: the order matters.
  all += s.StreamChunk(Chunk("Hi"));
  all += s.StreamChunk(Chunk("!", true));
  all += s.StreamEnd();
  EXPECT_TRUE(absl::StartsWith(all, "event: response.created\ndata: "));
  EXPECT_NE(all.find("event: response.output_text.delta\n"), std::string::npos);
  EXPECT_NE(all.find("\"text\":\"Hi!\""), std::string::npos);
  EXPECT_NE(all.find("event: response.incomplete\n"), std::string::npos);
}

TEST(OpenAiEncoderTest, ErrorsUseTheMappingTable) {
  json e = json::parse(OpenAiErrorBody(OverloadedError("busy", 2)))["error"];
  EXPECT_EQ(e["type"], "rate_limit_error");
  EXPECT_EQ(e["message"], "busy; retry after 2 s");
  EXPECT_TRUE(e["param"].is_null());
  OpenAiEncoder s(Request(OpenAiApi::kCompletions), "x", 1);
  json mid = json::parse(s.StreamError(absl::UnavailableError("shard died")).substr(6));
  EXPECT_EQ(mid["error"]["code"], "unavailable");
}

}  // namespace
}  // namespace sllm::gateway
