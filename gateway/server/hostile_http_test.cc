// Hostile input at the HTTP front door, one table (issue 8): every row is refused with its
// named error — status, and an OpenAI error naming the param, the limit and the value — and the
// gateway still serves a normal request after it. At the end no sequence is left running.
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gateway/server/hostile_input_fixture.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace sllm::gateway::hostile_test {
namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

using Headers = std::vector<std::pair<std::string, std::string>>;

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
      // Printing or copying a million nested arrays would overflow the stack.
      {.name = "nesting_a_million_deep", .path = chat,
       .body = R"({"model": "stories260K", "messages": [], "temperature": )" +
               std::string(1000000, '[') + std::string(1000000, ']') + "}",
       .status = 400, .code = "invalid_value",
       .message_parts = {"the request body nests arrays and objects more than 64 levels deep"}},
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
      {.name = "seed_beyond_int64", .path = chat,
       .body = ChatBody({{"seed", 18446744073709551615ull}}), .status = 400, .param = "seed",
       .code = "invalid_value",
       .message_parts = {"seed must be <= 9223372036854775807, got 18446744073709551615"}},
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

}  // namespace
}  // namespace sllm::gateway::hostile_test
