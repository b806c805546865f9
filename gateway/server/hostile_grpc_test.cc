// Hostile input at the gRPC front door, one table (issue 8): every row is refused with its
// named error — code, and a message naming the field, the limit and the value — and the
// gateway still serves a normal request after it. At the end no sequence is left running.
#include <algorithm>
#include <functional>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/server/hostile_input_fixture.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "sllm/v1/generation.grpc.pb.h"

namespace sllm::gateway::hostile_test {
namespace {

using ::testing::HasSubstr;

v1::GenerateRequest Text(const std::string& text, uint32_t max_tokens = 4) {
  v1::GenerateRequest r;
  r.set_model("stories260K");
  r.set_text(text);
  r.mutable_params()->set_max_tokens(max_tokens);
  r.mutable_params()->set_temperature(0);
  return r;
}

v1::ChatRequest Conversation(const std::string& role, const std::string& content) {
  v1::ChatRequest r;
  r.set_model("stories260K");
  auto* m = r.add_messages();
  m->set_role(role);
  m->set_content(content);
  r.mutable_params()->set_max_tokens(4);
  return r;
}

using Call = std::function<grpc::Status(v1::Generation::Stub&)>;

// Unary Generate of the default request changed by `edit`.
Call Generate(std::function<void(v1::GenerateRequest&)> edit) {
  return [edit](v1::Generation::Stub& stub) {
    v1::GenerateRequest r = Text("Once upon a time");
    edit(r);
    grpc::ClientContext ctx;
    v1::GenerateResponse resp;
    return stub.Generate(&ctx, r, &resp);
  };
}

// A server-streaming call of `rpc` with `r`: no chunk may arrive before the error.
template <class Request>
Call Streamed(Request r,
              std::unique_ptr<grpc::ClientReader<v1::GenerateStreamResponse>> (
                  v1::Generation::Stub::*rpc)(grpc::ClientContext*, const Request&)) {
  return [r, rpc](v1::Generation::Stub& stub) {
    grpc::ClientContext ctx;
    auto reader = (stub.*rpc)(&ctx, r);
    v1::GenerateStreamResponse chunk;
    int chunks = 0;
    while (reader->Read(&chunk)) ++chunks;
    EXPECT_EQ(chunks, 0);
    return reader->Finish();
  };
}

Call GenerateStream(std::function<void(v1::GenerateRequest&)> edit) {
  v1::GenerateRequest r = Text("Once upon a time");
  edit(r);
  return Streamed(r, &v1::Generation::Stub::GenerateStream);
}

Call Chat(v1::ChatRequest r) {
  return [r](v1::Generation::Stub& stub) {
    grpc::ClientContext ctx;
    v1::GenerateResponse resp;
    return stub.Chat(&ctx, r, &resp);
  };
}

Call ChatStream(v1::ChatRequest r) { return Streamed(r, &v1::Generation::Stub::ChatStream); }

struct GrpcCase {
  std::string name;
  Call call;
  grpc::StatusCode code;
  std::vector<std::string> message_parts;
};

std::vector<GrpcCase> GrpcCases() {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  using P = v1::GenerationParams;
  auto params = [](std::function<void(P&)> f) {
    return Generate([f](v1::GenerateRequest& r) { f(*r.mutable_params()); });
  };
  const auto kInvalid = grpc::StatusCode::INVALID_ARGUMENT;
  v1::ChatRequest no_messages = Conversation("user", "x");
  no_messages.clear_messages();
  v1::ChatRequest too_many_messages = Conversation("user", "x");
  for (int i = 0; i < 1024; ++i) *too_many_messages.add_messages() = too_many_messages.messages(0);
  v1::ChatRequest bad_stop_chat = Conversation("user", "x");
  bad_stop_chat.mutable_params()->add_stop("\xC3\x28");

  return {
      {"unknown_model",
       Generate([](auto& r) { r.set_model("gpt-4"); }),
       grpc::StatusCode::NOT_FOUND,
       {"model 'gpt-4' does not exist; served models: stories260K"}},
      {"empty_model",
       Generate([](auto& r) { r.set_model(""); }),
       grpc::StatusCode::NOT_FOUND,
       {"model '' does not exist"}},
      // Sampling values: NaN, infinite, negative, huge.
      {"temperature_nan",
       params([=](P& p) { p.set_temperature(nan); }),
       kInvalid,
       {"temperature must be a finite number >= 0, got nan"}},
      {"temperature_infinite",
       params([=](P& p) { p.set_temperature(inf); }),
       kInvalid,
       {"temperature must be a finite number >= 0, got inf"}},
      {"temperature_negative",
       params([](P& p) { p.set_temperature(-1); }),
       kInvalid,
       {"temperature must be a finite number >= 0, got -1"}},
      {"top_p_nan",
       params([=](P& p) { p.set_top_p(nan); }),
       kInvalid,
       {"top_p must be in (0, 1], got nan"}},
      {"top_p_huge",
       params([](P& p) { p.set_top_p(3e38f); }),
       kInvalid,
       {"top_p must be in (0, 1], got 3e+38"}},
      {"top_k_negative",
       params([](P& p) { p.set_top_k(-7); }),
       kInvalid,
       {"top_k must be >= 0 (0 or -1 disables it), got -7"}},
      {"min_p_negative_infinite",
       params([=](P& p) { p.set_min_p(-inf); }),
       kInvalid,
       {"min_p must be in [0, 1], got -inf"}},
      {"repetition_penalty_nan",
       params([=](P& p) { p.set_repetition_penalty(nan); }),
       kInvalid,
       {"repetition_penalty must be a finite number > 0, got nan"}},
      {"presence_penalty_huge",
       params([](P& p) { p.set_presence_penalty(1e30f); }),
       kInvalid,
       {"presence_penalty must be in [-2, 2], got 1e+30"}},
      {"frequency_penalty_infinite",
       params([=](P& p) { p.set_frequency_penalty(-inf); }),
       kInvalid,
       {"frequency_penalty must be in [-2, 2], got -inf"}},
      {"top_logprobs_huge",
       params([](P& p) {
         p.set_logprobs(true);
         p.set_top_logprobs(1000000);
       }),
       kInvalid,
       {"top_logprobs must be in [0, 20], got 1000000"}},
      {"top_logprobs_without_logprobs",
       params([](P& p) { p.set_top_logprobs(3); }),
       kInvalid,
       {"top_logprobs needs logprobs=true, got top_logprobs=3"}},
      // Lengths.
      {"max_tokens_zero",
       params([](P& p) { p.set_max_tokens(0); }),
       kInvalid,
       {"max_tokens must be >= 1, got 0"}},
      {"max_tokens_largest_uint32",
       params([](P& p) { p.set_max_tokens(4294967295u); }),
       kInvalid,
       {"max_tokens must be <= 8192 (the gateway's cap), got 4294967295"}},
      {"max_tokens_beyond_the_context",
       params([](P& p) { p.set_max_tokens(600); }),
       kInvalid,
       {"max_tokens must be <= 507 (context 512 - prompt 5 tokens), got 600"}},
      {"prompt_beyond_the_context",
       Generate([](auto& r) { r.set_text(LongPrompt()); }),
       kInvalid,
       {"tokens, which leaves no room to generate in the 512-token context of model "
        "'stories260K'"}},
      {"prompt_beyond_the_context_streamed",
       GenerateStream([](auto& r) { r.set_text(LongPrompt()); }),
       kInvalid,
       {"512-token context of model 'stories260K'"}},
      {"prompt_ids_beyond_the_context",
       Generate([](auto& r) {
         r.mutable_ids()->add_ids(1);
         for (int i = 0; i < 599; ++i) r.mutable_ids()->add_ids(403);
       }),
       kInvalid,
       {"prompt is 600 tokens", "512-token context"}},
      {"prompt_ids_outside_the_vocabulary",
       Generate([](auto& r) {
         r.mutable_ids()->add_ids(1);
         r.mutable_ids()->add_ids(4294967295u);
       }),
       kInvalid,
       {"prompt ids[1] must be < 512 (the vocabulary size), got 4294967295"}},
      {"prompt_ids_empty",
       Generate([](auto& r) { r.mutable_ids(); }),
       kInvalid,
       {"prompt must not be empty"}},
      {"prompt_over_the_byte_limit",
       Generate([](auto& r) { r.set_text(std::string(5 << 20, 'a')); }),
       grpc::StatusCode::RESOURCE_EXHAUSTED,
       {"prompt must be at most 4194304 bytes, got 5242880"}},
      // Invalid UTF-8: `bytes` fields reach the validator, which names the offset.
      {"invalid_utf8_prompt",
       Generate([](auto& r) { r.set_text("bad \xC3\x28 bytes"); }),
       kInvalid,
       {"prompt is not valid UTF-8: invalid byte 0xc3 at byte offset 4"}},
      {"invalid_utf8_prompt_streamed",
       GenerateStream([](auto& r) { r.set_text("\xFF"); }),
       kInvalid,
       {"prompt is not valid UTF-8: invalid byte 0xff at byte offset 0"}},
      {"invalid_utf8_chat_content",
       Chat(Conversation("user", "hi \xC3\x28")),
       kInvalid,
       {"messages[0].content is not valid UTF-8: invalid byte 0xc3 at byte offset 3"}},
      // Conversations.
      {"messages_empty", Chat(no_messages), kInvalid, {"messages must not be empty"}},
      {"too_many_messages",
       Chat(too_many_messages),
       kInvalid,
       {"messages must have at most 1024 entries, got 1025"}},
      {"unknown_role",
       Chat(Conversation("wizard", "hi")),
       kInvalid,
       {"messages[0].role must be one of system, developer, user, assistant, tool, got 'wizard'"}},
      // Stops.
      {"over_a_hundred_stop_strings",
       params([](P& p) {
         for (int i = 0; i < 101; ++i) p.add_stop("zz");
       }),
       kInvalid,
       {"stop must have at most 16 strings, got 101"}},
      {"stop_string_too_long",
       params([](P& p) { p.add_stop(std::string(300, 'z')); }),
       kInvalid,
       {"stop[0] must be at most 256 bytes, got 300"}},
      {"stop_token_id_outside_the_vocabulary",
       params([](P& p) { p.add_stop_token_ids(512); }),
       kInvalid,
       {"stop_token_ids[0] must be < 512 (the vocabulary size), got 512"}},
      // Invalid UTF-8 in proto3 `string` fields fails protobuf's parse of the request; the
      // gateway parses the public requests with ParseNamingErrors (proto/named_parse_errors.h),
      // which names the field path: through the request type's SerializationTraits on the
      // streaming RPCs, as streamed unary on the unary ones.
      {"invalid_utf8_stop_string",
       Chat(bad_stop_chat),
       kInvalid,
       {"params.stop[0] is not valid UTF-8: invalid byte 0xc3 at byte offset 0"}},
      {"invalid_utf8_role",
       Chat(Conversation("\xC3\x28", "hi")),
       kInvalid,
       {"messages[0].role is not valid UTF-8: invalid byte 0xc3 at byte offset 0"}},
      {"invalid_utf8_stop_string_streamed",
       ChatStream(bad_stop_chat),
       kInvalid,
       {"params.stop[0] is not valid UTF-8: invalid byte 0xc3 at byte offset 0"}},
      {"invalid_utf8_role_streamed",
       ChatStream(Conversation("\xC3\x28", "hi")),
       kInvalid,
       {"messages[0].role is not valid UTF-8: invalid byte 0xc3 at byte offset 0"}},
      {"invalid_utf8_model",
       Generate([](auto& r) { r.set_model("stories\xFF"); }),
       kInvalid,
       {"model is not valid UTF-8: invalid byte 0xff at byte offset 7"}},
      {"invalid_utf8_model_streamed",
       GenerateStream([](auto& r) { r.set_model("stories\xFF"); }),
       kInvalid,
       {"model is not valid UTF-8: invalid byte 0xff at byte offset 7"}},
  };
}

TEST_F(HostileInputTest, GrpcFrontRefusesEachRowByNameAndStaysHealthy) {
  for (const GrpcCase& c : GrpcCases()) {
    SCOPED_TRACE(c.name);
    const grpc::Status st = c.call(*stub_);
    EXPECT_EQ(st.error_code(), c.code) << st.error_message();
    for (const std::string& part : c.message_parts) {
      EXPECT_THAT(st.error_message(), HasSubstr(part));
    }
    // Still healthy: a one-token generation succeeds.
    grpc::ClientContext ctx;
    v1::GenerateResponse resp;
    const grpc::Status ok = stub_->Generate(&ctx, Text("Once", 1), &resp);
    ASSERT_TRUE(ok.ok()) << ok.error_message();
    EXPECT_EQ(resp.usage().completion_tokens(), 1u);
  }
  EXPECT_TRUE(WorkersIdle());
}

// sllm_rpc_requests_total{rpc, code} of the gateway's gRPC front, read from /metrics.
double RequestsCounted(int metrics_port, const std::string& rpc, const std::string& code) {
  return std::max(0.0, testing::MetricSample(testing::HttpGet(metrics_port, "/metrics"),
                                             "sllm_rpc_requests_total",
                                             {absl::StrCat("code=\"", code, "\""),
                                              absl::StrCat("rpc=\"", rpc, "\""),
                                              "service=\"sllm.v1.Generation\""}));
}

// A request that gRPC itself would refuse (a string field that is not UTF-8) counts in
// sllm_rpc_requests_total under its RPC and code, like every other refusal.
TEST_F(HostileInputTest, GrpcParseRefusalsAreCounted) {
  const auto bad_model = [](v1::GenerateRequest& r) { r.set_model("stories260K\xFF"); };
  const std::vector<std::pair<std::string, Call>> calls = {
      {"Generate", Generate(bad_model)},
      {"GenerateStream", GenerateStream(bad_model)},
      {"Chat", Chat(Conversation("us\xFF" "er", "x"))},
      {"ChatStream", ChatStream(Conversation("us\xFF" "er", "x"))},
  };
  const int port = gateway_->metrics_port();
  for (const auto& [rpc, call] : calls) {
    SCOPED_TRACE(rpc);
    const double before = RequestsCounted(port, rpc, "INVALID_ARGUMENT");
    const grpc::Status st = call(*stub_);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    EXPECT_THAT(st.error_message(), HasSubstr("is not valid UTF-8"));
    EXPECT_EQ(RequestsCounted(port, rpc, "INVALID_ARGUMENT"), before + 1);
  }
}

}  // namespace
}  // namespace sllm::gateway::hostile_test
