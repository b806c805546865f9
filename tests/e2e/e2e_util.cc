#include "tests/e2e/e2e_util.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "grpcpp/grpcpp.h"

namespace sllm::e2e {

namespace net = boost::asio;

std::unique_ptr<net::ip::tcp::socket> SendPost(net::io_context& ioc, int port,
                                               const std::string& path, const std::string& body) {
  auto socket = std::make_unique<net::ip::tcp::socket>(ioc);
  socket->connect({net::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port)});
  net::write(*socket, net::buffer(absl::StrCat(
                          "POST ", path, " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                          "Content-Type: application/json\r\nContent-Length: ", body.size(),
                          "\r\n\r\n", body)));
  return socket;
}

std::unique_ptr<net::ip::tcp::socket> OpenStream(net::io_context& ioc, int port,
                                                 std::string* got) {
  auto socket = SendPost(ioc, port, "/v1/completions",
                         R"({"model": "stories260K", "prompt": "Once upon a time", "stream": true,
                             "max_tokens": 500, "ignore_eos": true})");
  char buf[4096];
  while (got->find("data: {") == std::string::npos) {
    got->append(buf, socket->read_some(net::buffer(buf)));
  }
  return socket;
}

std::pair<int, std::string> PostJson(int port, const std::string& path, const std::string& body) {
  net::io_context ioc;
  auto socket = SendPost(ioc, port, path, body);
  boost::beast::flat_buffer buffer;
  boost::beast::http::response<boost::beast::http::string_body> res;
  boost::beast::http::read(*socket, buffer, res);
  return {res.result_int(), res.body()};
}

std::optional<v1::GetLoadResponse> ShardLoad(const tools::Cluster& cluster, int shard) {
  auto stub = v1::WorkerService::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", cluster.worker_ports()[static_cast<size_t>(shard)]),
      grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::GetLoadResponse load;
  if (!stub->GetLoad(&ctx, {}, &load).ok()) return std::nullopt;
  return load;
}

}  // namespace sllm::e2e
