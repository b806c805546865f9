// A minimal blocking HTTP/1.1 client for the gateway's in-process tests: one request per
// connection; the status, the body and the headers the tests look at.
#ifndef SLLM_GATEWAY_SERVER_TEST_HTTP_CLIENT_H_
#define SLLM_GATEWAY_SERVER_TEST_HTTP_CLIENT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace sllm::testing {

struct HttpResult {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string retry_after;
};

inline HttpResult Http(int port, const std::string& method, const std::string& target,
                       const std::string& body,
                       const std::string& content_type = "application/json",
                       const std::vector<std::pair<std::string, std::string>>& headers = {}) {
  namespace net = boost::asio;
  namespace bhttp = boost::beast::http;
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  socket.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
  req.set(bhttp::field::host, "localhost");
  if (!body.empty()) req.set(bhttp::field::content_type, content_type);
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  bhttp::write(socket, req);
  boost::beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 << 20);
  bhttp::read(socket, buffer, parser);
  auto res = parser.release();
  return {static_cast<int>(res.result_int()), res.body(),
          std::string(res[bhttp::field::content_type]), std::string(res["Retry-After"])};
}

// The `data:` payloads of an SSE body, in order.
inline std::vector<std::string> SseData(const std::string& body) {
  std::vector<std::string> out;
  for (absl::string_view line : absl::StrSplit(body, '\n')) {
    if (absl::ConsumePrefix(&line, "data: ")) out.emplace_back(line);
  }
  return out;
}

}  // namespace sllm::testing

#endif  // SLLM_GATEWAY_SERVER_TEST_HTTP_CLIENT_H_
