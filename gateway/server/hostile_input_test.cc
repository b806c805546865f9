// Hostile input at both front doors, one table each (issue 8): every row is refused with its
// named error — status / code, and a message naming the field, the limit and the value — and
// the gateway still serves a normal request after it. At the end no sequence is left running.
// In-process: tokenizer service + one worker shard (stories260K, context 512, vocabulary 512).
#include <chrono>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gateway/server/gateway_server.h"
#include "gateway/server/local_backends.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/test_util.h"
#include "sllm/v1/generation.grpc.pb.h"

namespace sllm::gateway {
namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

using Headers = std::vector<std::pair<std::string, std::string>>;

// A prompt of stories260K far beyond its 512-token context (each repeat is several tokens).
std::string LongPrompt() {
  std::string s;
  for (int i = 0; i < 300; ++i) s += "Once upon a time ";
  return s;
}

class HostileInputTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    backends_ = new LocalBackends();
    worker::EngineOptions engine;
    engine.num_threads = 1;
    ASSERT_TRUE(backends_->Start(1, engine).ok());
    GatewayServerOptions o = backends_->GatewayOptions();
    o.limits.max_stop_strings = 16;  // --max_stop_strings
    gateway_ = new GatewayServer(o);
    ASSERT_TRUE(gateway_->Start().ok());
    stub_ = v1::Generation::NewStub(testing::InsecureChannel(gateway_->grpc_target())).release();
    started_ = true;
  }
  // A failed SetUpTestSuite must fail every test (gtest would report them as skipped).
  void SetUp() override { ASSERT_TRUE(started_) << "the cluster did not start; see above"; }
  static void TearDownTestSuite() {
    delete stub_;
    delete gateway_;
    delete backends_;
  }

  // Waits (bounded) until the worker has no sequence running or waiting.
  static bool WorkersIdle() {
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    for (;;) {
      const auto load = backends_->engine(0).load();
      if (load.running == 0 && load.waiting == 0) return true;
      if (Clock::now() > deadline) return false;
      std::this_thread::yield();
    }
  }

  static inline bool started_ = false;
  static inline LocalBackends* backends_;
  static inline GatewayServer* gateway_;
  static inline v1::Generation::Stub* stub_;
};

// ---------------------------------------------------------------------------------------------
// HTTP front.

struct HttpReply {
  int status = 0;  // 0: no reply could be read.
  std::string body;
};

// Writes `bytes` as they are on a fresh connection and reads one reply. Write errors are
// ignored: the server may answer (and close) before it has read everything.
HttpReply SendRaw(int port, const std::string& bytes, size_t piece = 0) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  socket.set_option(tcp::no_delay(true));
  boost::system::error_code ec;
  if (piece == 0) piece = bytes.size();
  for (size_t at = 0; at < bytes.size() && !ec; at += piece) {
    net::write(socket, net::buffer(bytes.data() + at, std::min(piece, bytes.size() - at)), ec);
  }
  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  bhttp::read(socket, buffer, parser, ec);
  if (ec) return {};
  return {static_cast<int>(parser.get().result_int()), parser.get().body()};
}

struct HttpCase {
  std::string name;
  std::string method = "POST";
  std::string path;
  Headers headers;   // Besides Host and Content-Length.
  std::string body;  // Raw bytes.
  // Content-Length to declare instead of the body's size (the body is then not sent in full).
  std::optional<size_t> declared_length;
  int status;
  std::optional<std::string> param;  // The OpenAI error's `param`; nullopt: null.
  std::optional<std::string> code;   // The OpenAI error's `code`; nullopt: null.
  std::vector<std::string> message_parts;
  size_t piece = 0;  // Write the request in pieces of this many bytes (0: all at once).
};

std::string Serialize(const HttpCase& c) {
  std::string out = absl::StrCat(c.method, " ", c.path, " HTTP/1.1\r\nHost: localhost\r\n");
  for (const auto& [k, v] : c.headers) absl::StrAppend(&out, k, ": ", v, "\r\n");
  absl::StrAppend(&out, "Content-Length: ", c.declared_length.value_or(c.body.size()), "\r\n\r\n",
                  c.body);
  return out;
}

const Headers kJson = {{"Content-Type", "application/json"}};

// A chat request for stories260K with `patch` merged in (null members removed).
std::string ChatBody(const json& patch) {
  EXPECT_TRUE(patch.is_object());  // A patch that is not an object would replace the body.
  json body = {{"model", "stories260K"},
               {"messages", {{{"role", "user"}, {"content", "Once upon a time"}}}},
               {"max_tokens", 4},
               {"temperature", 0}};
  body.merge_patch(patch);
  return body.dump();
}

// A completion request for stories260K (a 5-token prompt) with `patch` merged in.
std::string CompletionBody(const json& patch) {
  EXPECT_TRUE(patch.is_object());
  json body = {{"model", "stories260K"}, {"prompt", "Once upon a time"}, {"max_tokens", 4}};
  body.merge_patch(patch);
  return body.dump();
}

std::vector<HttpCase> HttpCases() {
  const std::string chat = "/v1/chat/completions";
  const std::string completions = "/v1/completions";
  std::vector<std::string> many_stops(101, "zz");
  std::string long_prompt_ids = "[1";
  for (int i = 0; i < 599; ++i) long_prompt_ids += ",403";
  long_prompt_ids += "]";
  Headers flood = kJson;
  for (int i = 0; i < 1000; ++i) flood.emplace_back(absl::StrCat("X-Flood-", i), "yes");
  Headers long_flood = kJson;
  for (int i = 0; i < 3000; ++i) long_flood.emplace_back(absl::StrCat("X-Flood-", i), "yes");
  Headers huge_line = kJson;
  huge_line.emplace_back("X-Huge", std::string(20000, 'a'));
  const std::string five_mib(5 << 20, 'a');

  return {
      // Transport and framing.
      {.name = "malformed_request_line", .method = "GARBAGE", .path = "\x01\x02", .headers = {},
       .body = "", .status = 400, .message_parts = {"malformed HTTP request"}},
      {.name = "ten_mib_body_refused_before_it_is_read", .path = chat, .body = "{",
       .declared_length = size_t{10} << 20, .status = 413,
       .message_parts = {"larger than the limit of 8388608 bytes"}},
      {.name = "header_flood", .path = chat, .headers = flood, .body = ChatBody(json::object()),
       .status = 431, .message_parts = {"headers are larger than the limit of 16384 bytes"}},
      {.name = "header_flood_in_pieces", .path = chat, .headers = long_flood,
       .body = ChatBody(json::object()), .status = 431,
       .message_parts = {"headers are larger than the limit of 16384 bytes"}, .piece = 512},
      {.name = "huge_header_line", .path = chat, .headers = huge_line,
       .body = ChatBody(json::object()), .status = 431,
       .message_parts = {"headers are larger than the limit of 16384 bytes"}},
      {.name = "wrong_method", .method = "GET", .path = chat, .headers = {}, .body = "",
       .status = 405, .code = "method_not_allowed",
       .message_parts = {"GET is not allowed on /v1/chat/completions; use POST"}},
      {.name = "wrong_content_type", .path = chat, .headers = {{"Content-Type", "text/plain"}},
       .body = ChatBody(json::object()), .status = 400, .code = "invalid_value",
       .message_parts = {"Content-Type must be application/json, got 'text/plain'"}},
      // JSON.
      {.name = "truncated_json", .path = chat,
       .body = R"({"model": "stories260K", "messages": [{"role": "user", "content": "Once)",
       .status = 400, .code = "invalid_value",
       .message_parts = {"not valid JSON", "missing closing quote", "column"}},
      {.name = "malformed_json", .path = chat, .body = R"({"model": "stories260K",})",
       .status = 400, .code = "invalid_value", .message_parts = {"not valid JSON", "column 25"}},
      {.name = "body_not_an_object", .path = chat, .body = "[1, 2]", .status = 400,
       .code = "invalid_value", .message_parts = {"must be a JSON object"}},
      {.name = "empty_body", .path = chat, .body = "", .status = 400, .code = "invalid_value",
       .message_parts = {"not valid JSON"}},
      // JSON has no NaN or Infinity; numbers beyond a double overflow in the parser.
      {.name = "nan_literal", .path = chat,
       .body = R"({"model": "stories260K", "temperature": NaN, "messages": []})", .status = 400,
       .code = "invalid_value",
       .message_parts = {"not valid JSON", "invalid literal", "column 41", "\"temperature\": N"}},
      {.name = "infinity_literal", .path = chat,
       .body = R"({"model": "stories260K", "top_p": Infinity, "messages": []})", .status = 400,
       .code = "invalid_value", .message_parts = {"not valid JSON", "invalid literal"}},
      {.name = "number_beyond_double", .path = chat,
       .body = R"({"model": "stories260K", "temperature": 1e999, "messages": []})", .status = 400,
       .code = "invalid_value", .message_parts = {"not valid JSON", "number overflow", "1e999"}},
      {.name = "negative_number_beyond_double", .path = completions,
       .body = R"({"model": "stories260K", "prompt": "x", "max_tokens": -1e999})", .status = 400,
       .code = "invalid_value", .message_parts = {"number overflow", "-1e999"}},
      {.name = "number_beyond_float", .path = chat, .body = ChatBody({{"temperature", 1e300}}),
       .status = 400, .param = "temperature", .code = "invalid_value",
       .message_parts = {"temperature", "1e+300"}},
      // Sampling values.
      {.name = "negative_temperature", .path = chat, .body = ChatBody({{"temperature", -0.5}}),
       .status = 400, .param = "temperature", .code = "invalid_value",
       .message_parts = {"temperature must be a finite number >= 0, got -0.5"}},
      {.name = "temperature_not_a_number", .path = chat, .body = ChatBody({{"temperature", "hot"}}),
       .status = 400, .param = "temperature", .code = "invalid_value",
       .message_parts = {"temperature must be a number, got \"hot\""}},
      {.name = "top_p_zero", .path = chat, .body = ChatBody({{"top_p", 0}}), .status = 400,
       .param = "top_p", .code = "invalid_value",
       .message_parts = {"top_p must be in (0, 1], got 0"}},
      {.name = "top_p_huge", .path = chat, .body = ChatBody({{"top_p", 1e30}}), .status = 400,
       .param = "top_p", .code = "invalid_value",
       .message_parts = {"top_p must be in (0, 1], got 1e+30"}},
      {.name = "top_k_negative", .path = chat, .body = ChatBody({{"top_k", -5}}), .status = 400,
       .param = "top_k", .code = "invalid_value",
       .message_parts = {"top_k must be between -1 and 2147483647, got -5"}},
      {.name = "top_k_huge", .path = chat, .body = ChatBody({{"top_k", 1e10}}), .status = 400,
       .param = "top_k", .code = "invalid_value",
       .message_parts = {"top_k must be an integer, got 10000000000.0"}},
      {.name = "min_p_negative", .path = chat, .body = ChatBody({{"min_p", -1}}), .status = 400,
       .param = "min_p", .code = "invalid_value",
       .message_parts = {"min_p must be in [0, 1], got -1"}},
      {.name = "repetition_penalty_zero", .path = chat,
       .body = ChatBody({{"repetition_penalty", 0}}), .status = 400,
       .param = "repetition_penalty", .code = "invalid_value",
       .message_parts = {"repetition_penalty must be a finite number > 0, got 0"}},
      {.name = "presence_penalty_huge", .path = chat, .body = ChatBody({{"presence_penalty", 1e9}}),
       .status = 400, .param = "presence_penalty", .code = "invalid_value",
       .message_parts = {"presence_penalty must be in [-2, 2], got 1e+09"}},
      {.name = "frequency_penalty_negative", .path = chat,
       .body = ChatBody({{"frequency_penalty", -3}}), .status = 400, .param = "frequency_penalty",
       .code = "invalid_value",
       .message_parts = {"frequency_penalty must be in [-2, 2], got -3"}},
      {.name = "seed_negative", .path = chat, .body = ChatBody({{"seed", -1}}), .status = 400,
       .param = "seed", .code = "invalid_value",
       .message_parts = {"seed must be between 0 and 9223372036854775807, got -1"}},
      // Values of an unforeseen type deep inside an object.
      {.name = "response_format_type_not_a_string", .path = chat,
       .body = ChatBody({{"response_format", {{"type", 5}}}}), .status = 400,
       .param = "response_format", .code = "invalid_value",
       .message_parts = {"response_format must be {\"type\": \"text\"}", "got {\"type\":5}"}},
      {.name = "responses_text_format_not_an_object", .path = "/v1/responses",
       .body = R"({"model": "stories260K", "input": "hi", "text": {"format": 5}})", .status = 400,
       .param = "text.format", .code = "invalid_value",
       .message_parts = {"text.format must be {\"type\": \"text\"}, got 5"}},
      // Lengths.
      {.name = "max_tokens_zero", .path = chat, .body = ChatBody({{"max_tokens", 0}}),
       .status = 400, .param = "max_tokens", .code = "invalid_value",
       .message_parts = {"max_tokens must be >= 1, got 0"}},
      {.name = "max_tokens_negative", .path = chat, .body = ChatBody({{"max_tokens", -1}}),
       .status = 400, .param = "max_tokens", .code = "invalid_value",
       .message_parts = {"max_tokens must be between 0 and 4294967295, got -1"}},
      {.name = "max_tokens_over_the_cap", .path = chat, .body = ChatBody({{"max_tokens", 100000}}),
       .status = 400, .param = "max_tokens", .code = "invalid_value",
       .message_parts = {"max_tokens must be <= 8192 (the gateway's cap), got 100000"}},
      {.name = "max_tokens_beyond_the_context", .path = completions,
       .body = CompletionBody({{"max_tokens", 600}}), .status = 400, .param = "max_tokens",
       .code = "invalid_value",
       .message_parts = {"max_tokens must be <= 507 (context 512 - prompt 5 tokens), got 600"}},
      {.name = "prompt_beyond_the_context", .path = completions,
       .body = CompletionBody({{"prompt", LongPrompt()}}), .status = 400, .param = "prompt",
       .code = "invalid_value",
       .message_parts = {"prompt is ", "tokens, which leaves no room to generate in the "
                                        "512-token context of model 'stories260K'"}},
      {.name = "prompt_ids_beyond_the_context", .path = completions,
       .body = R"({"model": "stories260K", "prompt":)" + long_prompt_ids + "}", .status = 400,
       .param = "prompt", .code = "invalid_value",
       .message_parts = {"prompt is 600 tokens", "512-token context of model 'stories260K'"}},
      {.name = "prompt_ids_outside_the_vocabulary", .path = completions,
       .body = CompletionBody({{"prompt", {1, 403, 512}}}), .status = 400, .param = "prompt",
       .code = "invalid_value",
       .message_parts = {"prompt ids[2] must be < 512 (the vocabulary size), got 512"}},
      {.name = "prompt_empty_array", .path = completions,
       .body = CompletionBody({{"prompt", json::array()}}), .status = 400, .param = "prompt",
       .code = "invalid_value",
       .message_parts = {"prompt must be a string or an array of token ids, got []"}},
      {.name = "prompt_over_the_byte_limit", .path = completions,
       .body = CompletionBody({{"prompt", five_mib}}), .status = 413, .param = "prompt",
       .code = "request_too_large",
       .message_parts = {"prompt must be at most 4194304 bytes, got 5242880"}},
      // Conversations.
      {.name = "messages_missing", .path = chat, .body = ChatBody({{"messages", nullptr}}),
       .status = 400, .param = "messages", .code = "invalid_value",
       .message_parts = {"messages is required"}},
      {.name = "messages_empty", .path = chat, .body = ChatBody({{"messages", json::array()}}),
       .status = 400, .param = "messages", .code = "invalid_value",
       .message_parts = {"messages must not be empty"}},
      {.name = "unknown_role", .path = chat,
       .body = ChatBody({{"messages", {{{"role", "wizard"}, {"content", "hi"}}}}}), .status = 400,
       .param = "messages[0].role", .code = "invalid_value",
       .message_parts = {"messages[0].role must be one of system, developer, user, assistant, "
                         "tool, got 'wizard'"}},
      {.name = "role_missing", .path = chat,
       .body = ChatBody({{"messages", {{{"content", "hi"}}}}}), .status = 400,
       .param = "messages[0].role", .code = "invalid_value",
       .message_parts = {"messages[0].role is required"}},
      {.name = "unknown_model", .path = chat, .body = ChatBody({{"model", "gpt-4"}}), .status = 404,
       .code = "model_not_found",
       .message_parts = {"model 'gpt-4' does not exist; served models: stories260K"}},
      // Stop strings.
      {.name = "over_a_hundred_stop_strings", .path = chat,
       .body = ChatBody({{"stop", many_stops}}), .status = 400, .param = "stop",
       .code = "invalid_value",
       .message_parts = {"stop must have at most 16 strings, got 101"}},
      {.name = "empty_stop_string", .path = chat, .body = ChatBody({{"stop", {"a", ""}}}),
       .status = 400, .param = "stop[1]", .code = "invalid_value",
       .message_parts = {"stop[1] must not be empty"}},
      {.name = "stop_token_id_outside_the_vocabulary", .path = chat,
       .body = ChatBody({{"stop_token_ids", {99999}}}), .status = 400,
       .param = "stop_token_ids[0]", .code = "invalid_value",
       .message_parts = {"stop_token_ids[0] must be < 512 (the vocabulary size), got 99999"}},
      // Invalid UTF-8: raw 0xC3 0x28 inside a JSON string is not JSON either (RFC 8259 text is
      // UTF-8), and a lone surrogate escape is no character: the parser refuses both.
      {.name = "invalid_utf8_in_prompt", .path = completions,
       .body = "{\"model\": \"stories260K\", \"prompt\": \"bad \xC3\x28 bytes\"}", .status = 400,
       .code = "invalid_value",
       .message_parts = {"not valid JSON", "ill-formed UTF-8 byte", "column"}},
      {.name = "invalid_utf8_in_chat_message", .path = chat,
       .body = "{\"model\": \"stories260K\", \"messages\": [{\"role\": \"user\", "
               "\"content\": \"\xC3\x28\"}]}",
       .status = 400, .code = "invalid_value",
       .message_parts = {"not valid JSON", "ill-formed UTF-8"}},
      {.name = "lone_surrogate_in_prompt", .path = completions,
       .body = R"({"model": "stories260K", "prompt": "bad \ud800 escape"})", .status = 400,
       .code = "invalid_value", .message_parts = {"not valid JSON", "surrogate"}},
  };
}

TEST_F(HostileInputTest, HttpFrontRefusesEachRowByNameAndStaysHealthy) {
  const int port = gateway_->http_port();
  const std::string healthy = absl::StrCat(
      "POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
      "Content-Length: ");
  const std::string healthy_body =
      R"({"model": "stories260K", "prompt": "Once", "max_tokens": 1, "temperature": 0})";
  for (const HttpCase& c : HttpCases()) {
    SCOPED_TRACE(c.name);
    const HttpReply r = SendRaw(port, Serialize(c), c.piece);
    ASSERT_EQ(r.status, c.status) << r.body;
    const json body = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(body.is_object() && body.contains("error")) << r.body;
    const json& e = body["error"];
    EXPECT_EQ(e["param"], c.param ? json(*c.param) : json()) << r.body;
    EXPECT_EQ(e["code"], c.code ? json(*c.code) : json()) << r.body;
    ASSERT_TRUE(e["message"].is_string()) << r.body;
    for (const std::string& part : c.message_parts) {
      EXPECT_THAT(e["message"].get<std::string>(), HasSubstr(part));
    }
    // Still healthy: a one-token completion succeeds.
    const HttpReply ok =
        SendRaw(port, absl::StrCat(healthy, healthy_body.size(), "\r\n\r\n", healthy_body));
    ASSERT_EQ(ok.status, 200) << ok.body;
    EXPECT_EQ(json::parse(ok.body)["usage"]["completion_tokens"], 1);
  }
  EXPECT_TRUE(WorkersIdle());
  // A generation thread leaves the count just after its reply went out.
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (gateway_->openai().in_flight() != 0 && Clock::now() < deadline) std::this_thread::yield();
  EXPECT_EQ(gateway_->openai().in_flight(), 0);
}

// ---------------------------------------------------------------------------------------------
// gRPC front.

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

}  // namespace
}  // namespace sllm::gateway
