#include "gateway/http_front/openai_request.h"

#include "gtest/gtest.h"

namespace sllm::gateway {
namespace {

absl::Status Error(OpenAiApi api, const std::string& body) {
  return ParseOpenAiRequest(api, body).status();
}

TEST(OpenAiRequestTest, RefusesDeepNestingBeforeParsing) {
  const std::string body = R"({"model": "m", "prompt": "x", "stop": )" +
                           std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(Error(OpenAiApi::kCompletions, body).message(),
            "the request body nests arrays and objects more than 64 levels deep (level 65 opens "
            "at byte offset 101)");
}

TEST(OpenAiRequestTest, AParseErrorQuotesOnlyTheEndOfWhatItRead) {
  // A raw newline ends a 100 KB prompt string: the parser's message would quote all of it.
  const std::string body =
      R"({"model": "m", "prompt": ")" + std::string(100000, 'a') + "\n\"}";
  const std::string message(Error(OpenAiApi::kCompletions, body).message());
  EXPECT_LT(message.size(), 400u) << message.substr(0, 400);
  EXPECT_NE(message.find("the request body is not valid JSON"), std::string::npos) << message;
  EXPECT_NE(message.find("last read: '...aaaa"), std::string::npos) << message;
}

TEST(OpenAiRequestTest, AnySixtyFourBitSeedIsAccepted) {
  auto r = ParseOpenAiRequest(OpenAiApi::kCompletions,
                              R"({"model": "m", "prompt": "x", "seed": -1})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->pipeline.params.seed(), 18446744073709551615u);
}

TEST(OpenAiRequestTest, ParsesAChatCompletion) {
  auto r = ParseOpenAiRequest(OpenAiApi::kChatCompletions, R"({
    "model": "m", "stream": true, "stream_options": {"include_usage": true},
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": [{"type": "text", "text": "Hi "},
                                              {"type": "text", "text": "there"}]}],
    "max_completion_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "seed": 3,
    "stop": ["\n\n", "END"], "stop_token_ids": [2], "ignore_eos": true, "user": "u1",
    "chat_template_kwargs": {"enable_thinking": false}, "tools": [], "n": 1,
    "logit_bias": {}, "unknown_field": 1})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->pipeline.model, "m");
  EXPECT_TRUE(r->stream);
  EXPECT_TRUE(r->include_usage);
  ASSERT_EQ(r->pipeline.chat.messages_size(), 2);
  EXPECT_EQ(r->pipeline.chat.messages(1).content(), "Hi there");
  EXPECT_TRUE(r->pipeline.chat.add_generation_prompt());
  EXPECT_EQ(r->pipeline.chat.template_kwargs_json().at("enable_thinking"), "false");
  const v1::GenerationParams& p = r->pipeline.params;
  EXPECT_EQ(p.max_tokens(), 7u);
  EXPECT_FLOAT_EQ(p.temperature(), 0.5f);
  EXPECT_EQ(p.top_k(), 40);
  EXPECT_EQ(p.seed(), 3u);
  ASSERT_EQ(p.stop_size(), 2);
  EXPECT_EQ(p.stop(1), "END");
  EXPECT_EQ(p.stop_token_ids(0), 2u);
  EXPECT_TRUE(p.ignore_eos());
}

TEST(OpenAiRequestTest, ParsesCompletionsAndResponses) {
  auto c = ParseOpenAiRequest(OpenAiApi::kCompletions, R"({"model": "m", "prompt": [1, 2, 3]})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pipeline.kind, PipelineRequest::Kind::kIds);
  EXPECT_EQ(c->pipeline.ids, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(c->pipeline.params.max_tokens(), 16u);  // OpenAI's default for completions.
  auto one = ParseOpenAiRequest(OpenAiApi::kCompletions, R"({"model": "m", "prompt": ["x"]})");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->pipeline.text, "x");

  auto r = ParseOpenAiRequest(OpenAiApi::kResponses, R"({"model": "m", "instructions": "Sys",
    "input": [{"role": "user", "content": [{"type": "input_text", "text": "Q"}]},
              {"type": "message", "role": "assistant", "content": "A"}],
    "max_output_tokens": 5})");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->pipeline.chat.messages_size(), 3);
  EXPECT_EQ(r->pipeline.chat.messages(0).role(), "system");
  EXPECT_EQ(r->pipeline.chat.messages(1).content(), "Q");
  EXPECT_EQ(r->pipeline.params.max_tokens(), 5u);
}

TEST(OpenAiRequestTest, EachBadFieldGetsANamedError) {
  struct Case {
    OpenAiApi api;
    const char* body;
    const char* message;
    const char* param;
  };
  const Case cases[] = {
      {OpenAiApi::kChatCompletions, R"([1])", "the request body must be a JSON object", ""},
      {OpenAiApi::kChatCompletions, R"({"messages": []})", "model is required", "model"},
      {OpenAiApi::kChatCompletions, R"({"model": "m"})", "messages is required", "messages"},
      {OpenAiApi::kChatCompletions, R"({"model": "m", "messages": [], "top_p": "x"})",
       "top_p must be a number, got \"x\"", "top_p"},
      {OpenAiApi::kChatCompletions, R"({"model": "m", "messages": [], "max_tokens": -1})",
       "max_tokens must be between 0 and 4294967295, got -1", "max_tokens"},
      {OpenAiApi::kChatCompletions, R"({"model": "m", "messages": [], "n": 2})",
       "n must be 1 (one choice per request), got 2", "n"},
      {OpenAiApi::kChatCompletions, R"({"model": "m", "messages": [], "stop": [1]})",
       "stop[0] must be a string, got 1", "stop[0]"},
      {OpenAiApi::kChatCompletions, R"({"model": "m", "messages": [{"content": "x"}]})",
       "messages[0].role is required", "messages[0].role"},
      {OpenAiApi::kChatCompletions,
       R"({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
       "messages[0].content[0].type must be \"text\" (this server serves text models), got "
       "\"image_url\"",
       "messages[0].content[0].type"},
      {OpenAiApi::kChatCompletions, R"({"model": "m", "messages": [], "logprobs": true})",
       "logprobs are not served over HTTP yet; the gRPC API (sllm.v1.Generation) returns them",
       "logprobs"},
      {OpenAiApi::kChatCompletions,
       R"({"model": "m", "messages": [], "response_format": {"type": "json_object"}})",
       "response_format must be {\"type\": \"text\"} (structured output is not supported), got "
       "{\"type\":\"json_object\"}",
       "response_format"},
      {OpenAiApi::kCompletions, R"({"model": "m", "prompt": ["a", "b"]})",
       "prompt must be a single prompt (send one request per prompt), got 2 prompts", "prompt"},
      {OpenAiApi::kCompletions, R"({"model": "m", "prompt": {}})",
       "prompt must be a string or an array of token ids, got {}", "prompt"},
      {OpenAiApi::kResponses, R"({"model": "m"})", "input is required", "input"},
      {OpenAiApi::kResponses, R"({"model": "m", "input": "x", "previous_response_id": "r"})",
       "previous_response_id is not supported (responses are not stored); send the conversation "
       "in input",
       "previous_response_id"},
  };
  for (const Case& c : cases) {
    absl::Status st = Error(c.api, c.body);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(st.message(), c.message) << c.body;
    EXPECT_EQ(ErrorField(st), c.param) << c.body;
  }
  absl::Status bad = Error(OpenAiApi::kChatCompletions, "{\"model\": ");
  EXPECT_NE(bad.message().find("the request body is not valid JSON: "), std::string::npos);
  absl::Status utf8 = Error(OpenAiApi::kChatCompletions, "{\"model\": \"\xC3\"}");
  EXPECT_NE(utf8.message().find("not valid JSON"), std::string::npos) << utf8;
}

}  // namespace
}  // namespace sllm::gateway
