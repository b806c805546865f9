#include "gateway/validation/request_validator.h"

#include "gateway/validation/error_mapping.h"
#include "gtest/gtest.h"
#include "services/common/field_error.h"

namespace sllm::gateway {
namespace {

const ModelInfo kModel{"stories", 512, 512};

TEST(FindModelTest, UnknownModelListsServedOnes) {
  std::vector<ModelInfo> models = {kModel, {"llama", 4096, 128256}};
  EXPECT_EQ((*FindModel("llama", models))->context_length, 4096u);
  const absl::Status st = FindModel("gpt-4", models).status();
  EXPECT_EQ(st.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(st.message(), "model 'gpt-4' does not exist; served models: stories, llama");
}

TEST(ToSamplingParamsTest, EachRuleHasItsError) {
  struct Case {
    std::function<void(v1::GenerationParams&)> set;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& p) { p.set_temperature(-1); }, "temperature must be a finite number >= 0, got -1"},
      {[](auto& p) { p.set_temperature(NAN); }, "temperature must be a finite number >= 0, got nan"},
      {[](auto& p) { p.set_top_p(1.5); }, "top_p must be in (0, 1], got 1.5"},
      {[](auto& p) { p.set_top_k(-5); }, "top_k must be >= 0 (0 or -1 disables it), got -5"},
      {[](auto& p) { p.set_min_p(2); }, "min_p must be in [0, 1], got 2"},
      {[](auto& p) { p.set_repetition_penalty(0); },
       "repetition_penalty must be a finite number > 0, got 0"},
      {[](auto& p) { p.set_presence_penalty(3); }, "presence_penalty must be in [-2, 2], got 3"},
      {[](auto& p) { p.set_frequency_penalty(-2.5); },
       "frequency_penalty must be in [-2, 2], got -2.5"},
      {[](auto& p) { p.set_top_logprobs(3); }, "top_logprobs needs logprobs=true, got top_logprobs=3"},
      {[](auto& p) { p.set_logprobs(true); p.set_top_logprobs(21); },
       "top_logprobs must be in [0, 20], got 21"},
  };
  for (const Case& c : cases) {
    v1::GenerationParams p;
    c.set(p);
    const absl::Status st = ToSamplingParams(p).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << c.message;
    EXPECT_EQ(st.message(), c.message);
    // The field the message opens with is also the error's field (the OpenAI `param`).
    EXPECT_EQ(ErrorField(st), c.message.substr(0, c.message.find(' '))) << c.message;
  }
  v1::GenerationParams ok;
  ok.set_temperature(0);
  ok.set_seed(7);
  ok.set_logprobs(true);
  ok.set_top_logprobs(5);
  auto s = ToSamplingParams(ok);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->greedy());
  EXPECT_EQ(s->logprobs, 5);
  EXPECT_EQ(*s->seed, 7u);
}

TEST(ValidateStopsTest, CountLengthEncodingAndIds) {
  GatewayLimits limits;
  limits.max_stop_strings = 2;
  v1::GenerationParams p;
  p.add_stop("a");
  p.add_stop("b");
  p.add_stop("c");
  EXPECT_EQ(ValidateStops(p, kModel, limits).message(), "stop must have at most 2 strings, got 3");
  p.clear_stop();
  p.add_stop(std::string(300, 'x'));
  EXPECT_EQ(ValidateStops(p, kModel, limits).message(),
            "stop[0] must be at most 256 bytes, got 300");
  p.clear_stop();
  p.add_stop("ok\xff");
  EXPECT_EQ(ValidateStops(p, kModel, limits).message(),
            "stop[0] is not valid UTF-8: invalid byte 0xff at byte offset 2");
  EXPECT_EQ(ErrorField(ValidateStops(p, kModel, limits)), "stop[0]");
  p.clear_stop();
  p.add_stop_token_ids(600);
  EXPECT_EQ(ValidateStops(p, kModel, limits).message(),
            "stop_token_ids[0] must be < 512 (the vocabulary size), got 600");
}

TEST(ValidatePromptTest, TextIdsAndMessages) {
  GatewayLimits limits;
  limits.max_prompt_bytes = 8;
  const absl::Status big = ValidatePromptText("123456789", "prompt", limits);
  EXPECT_EQ(big.message(), "prompt must be at most 8 bytes, got 9");
  EXPECT_EQ(MapError(big).http_status, 413);
  EXPECT_EQ(ErrorField(big), "prompt");
  EXPECT_EQ(ValidatePromptIds({}, kModel).message(), "prompt must not be empty");
  EXPECT_EQ(ValidatePromptIds(std::vector<uint32_t>{1, 512}, kModel).message(),
            "prompt ids[1] must be < 512 (the vocabulary size), got 512");
  google::protobuf::RepeatedPtrField<v1::ChatMessage> messages;
  EXPECT_EQ(ValidateMessages(messages, {}).message(), "messages must not be empty");
  auto* m = messages.Add();
  m->set_role("wizard");
  EXPECT_EQ(ValidateMessages(messages, {}).message(),
            "messages[0].role must be one of system, developer, user, assistant, tool, got 'wizard'");
  EXPECT_EQ(ErrorField(ValidateMessages(messages, {})), "messages[0].role");
}

TEST(ResolveMaxTokensTest, CapContextAndDefault) {
  GatewayLimits limits;
  limits.max_tokens_cap = 100;
  EXPECT_EQ(*ResolveMaxTokens(std::nullopt, 20, kModel, limits), 100u);
  EXPECT_EQ(*ResolveMaxTokens(std::nullopt, 480, kModel, limits), 32u);
  EXPECT_EQ(ResolveMaxTokens(0, 20, kModel, limits).status().message(),
            "max_tokens must be >= 1, got 0");
  EXPECT_EQ(ResolveMaxTokens(101, 20, kModel, limits).status().message(),
            "max_tokens must be <= 100 (the gateway's cap), got 101");
  EXPECT_EQ(ResolveMaxTokens(50, 480, kModel, limits).status().message(),
            "max_tokens must be <= 32 (context 512 - prompt 480 tokens), got 50");
  EXPECT_EQ(ResolveMaxTokens(10, 512, kModel, limits).status().message(),
            "prompt is 512 tokens, which leaves no room to generate in the 512-token context of "
            "model 'stories'");
}

TEST(ErrorMappingTest, OneTableForGrpcAndHttp) {
  EXPECT_EQ(MapError(absl::InvalidArgumentError("x")).http_status, 400);
  EXPECT_EQ(MapError(absl::NotFoundError("x")).http_status, 404);
  EXPECT_EQ(MapError(absl::UnauthenticatedError("x")).http_status, 401);
  EXPECT_EQ(MapError(absl::UnavailableError("x")).http_status, 503);
  EXPECT_EQ(MapError(absl::DeadlineExceededError("x")).http_status, 504);
  const absl::Status busy = OverloadedError("no shard can admit the request", 2);
  EXPECT_EQ(MapError(busy).http_status, 429);
  EXPECT_EQ(MapError(busy).grpc_code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(RetryAfterSeconds(busy), 2);
  EXPECT_EQ(busy.message(), "no shard can admit the request; retry after 2 s");
  EXPECT_EQ(MapError(PayloadTooLargeError("x")).grpc_code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(MapError(absl::InternalError("x")).http_status, 500);
}

}  // namespace
}  // namespace sllm::gateway
