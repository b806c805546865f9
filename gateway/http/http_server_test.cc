// The HTTP server over real loopback sockets on port 0, with a Beast client.
#include "gateway/http/http_server.h"

#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gtest/gtest.h"

namespace sllm::http {
namespace {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

class Client {
 public:
  explicit Client(int port) : socket_(ioc_) {
    socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  }
  void SendRaw(const std::string& bytes) { net::write(socket_, net::buffer(bytes)); }
  bhttp::response<bhttp::string_body> Read() {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64 << 20);
    boost::system::error_code ec;
    bhttp::read(socket_, buffer_, parser, ec);
    EXPECT_FALSE(ec) << ec.message();
    return parser.release();
  }
  bhttp::response<bhttp::string_body> Get(const std::string& target) {
    SendRaw(absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: x\r\n\r\n"));
    return Read();
  }
  // True when the server closed the connection.
  bool Closed() {
    boost::system::error_code ec;
    char c;
    socket_.read_some(net::buffer(&c, 1), ec);
    return ec == net::error::eof || ec == net::error::connection_reset;
  }
  void Close() { socket_.close(); }

 private:
  net::io_context ioc_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

HttpServerOptions Local() {
  HttpServerOptions o;
  o.host = "127.0.0.1";
  o.max_body_bytes = 1024;
  o.max_header_bytes = 4096;
  return o;
}

TEST(HttpServerTest, AnswersKeepAliveAndPipelinedRequests) {
  HttpServer server(Local(), [](std::shared_ptr<HttpExchange> ex) {
    const HttpRequest& r = ex->request();
    ex->Respond(200, "text/plain",
                r.method + " " + r.path + " " + std::string(r.Header("x-test")) + " " + r.body,
                {{"X-Reply", "1"}});
  });
  ASSERT_TRUE(server.Start().ok());
  Client client(server.port());
  auto a = client.Get("/a?q=1");
  EXPECT_EQ(a.result_int(), 200);
  EXPECT_EQ(a.body(), "GET /a  ");
  EXPECT_EQ(a["X-Reply"], "1");
  EXPECT_TRUE(a.keep_alive());
  // Two requests in one write: two replies, in order, on the same connection.
  client.SendRaw(
      "POST /b HTTP/1.1\r\nHost: x\r\nX-Test: t\r\nContent-Length: 3\r\n\r\nabc"
      "GET /c HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(client.Read().body(), "POST /b t abc");
  EXPECT_EQ(client.Read().body(), "GET /c  ");
  // Connection: close is honoured.
  client.SendRaw("GET /d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto d = client.Read();
  EXPECT_FALSE(d.keep_alive());
  EXPECT_TRUE(client.Closed());
  EXPECT_EQ(server.active_exchanges(), 0);
}

TEST(HttpServerTest, StreamsChunksFromAnotherThread) {
  std::vector<std::thread> threads;
  HttpServer server(Local(), [&](std::shared_ptr<HttpExchange> ex) {
    threads.emplace_back([ex] {
      ex->StartStream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
      for (int i = 0; i < 3; ++i) ex->Write(absl::StrCat("data: ", i, "\n\n"));
      ex->End();
      ex->Write("ignored after End");
    });
  });
  ASSERT_TRUE(server.Start().ok());
  Client client(server.port());
  auto r = client.Get("/stream");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r[bhttp::field::content_type], "text/event-stream");
  EXPECT_TRUE(r.chunked());
  EXPECT_EQ(r.body(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  EXPECT_EQ(client.Get("/again").body(), "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  for (auto& t : threads) t.join();
}

TEST(HttpServerTest, StreamStartCarriesTheFirstChunk) {
  std::promise<std::shared_ptr<HttpExchange>> arrived;
  HttpServer server(Local(), [&](std::shared_ptr<HttpExchange> ex) {
    ex->StartStream(200, "text/event-stream", {}, "data: first\n\n");
    arrived.set_value(ex);
  });
  ASSERT_TRUE(server.Start().ok());
  Client client(server.port());
  client.SendRaw("GET /s HTTP/1.1\r\nHost: x\r\n\r\n");
  std::shared_ptr<HttpExchange> ex = arrived.get_future().get();
  ex->Write("data: second\n\n");
  ex->End();
  auto r = client.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(r.chunked());
  EXPECT_EQ(r.body(), "data: first\n\ndata: second\n\n");
}

TEST(HttpServerTest, RejectsOversizedAndMalformedRequests) {
  int handled = 0;
  HttpServer server(Local(), [&](std::shared_ptr<HttpExchange> ex) {
    ++handled;
    ex->Respond(200, "text/plain", "ok");
  });
  ASSERT_TRUE(server.Start().ok());
  {
    Client client(server.port());
    client.SendRaw("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n");
    auto r = client.Read();
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_NE(r.body().find("limit of 1024 bytes"), std::string::npos) << r.body();
    EXPECT_FALSE(r.keep_alive());
  }
  {
    Client client(server.port());
    std::string flood = "GET / HTTP/1.1\r\nHost: x\r\n";
    for (int i = 0; i < 100; ++i) absl::StrAppend(&flood, "X-Flood-", i, ": ", std::string(100, 'a'), "\r\n");
    client.SendRaw(flood + "\r\n");
    auto r = client.Read();
    EXPECT_EQ(r.result_int(), 431);
    EXPECT_NE(r.body().find("limit of 4096 bytes"), std::string::npos) << r.body();
  }
  {
    Client client(server.port());
    client.SendRaw("THIS IS NOT HTTP\r\n\r\n");
    auto r = client.Read();
    EXPECT_EQ(r.result_int(), 400);
    EXPECT_NE(r.body().find("malformed HTTP request"), std::string::npos) << r.body();
  }
  EXPECT_EQ(handled, 0);
  // The server still serves.
  Client client(server.port());
  EXPECT_EQ(client.Get("/fine").body(), "ok");
}

TEST(HttpServerTest, AnswersExpectContinue) {
  HttpServer server(Local(), [](std::shared_ptr<HttpExchange> ex) {
    ex->Respond(200, "text/plain", ex->request().body);
  });
  ASSERT_TRUE(server.Start().ok());
  Client client(server.port());
  client.SendRaw(
      "POST /x HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 100);
  client.SendRaw("body");
  EXPECT_EQ(client.Read().body(), "body");
}

TEST(HttpServerTest, TellsTheHandlerWhenTheClientLeaves) {
  std::promise<void> gone;
  std::shared_ptr<HttpExchange> held;
  HttpServer server(Local(), [&](std::shared_ptr<HttpExchange> ex) {
    ex->OnClientGone([&] { gone.set_value(); });
    held = ex;  // No reply yet: a long generation.
  });
  ASSERT_TRUE(server.Start().ok());
  {
    Client client(server.port());
    client.SendRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    // Wait until the handler has it, then disconnect.
    while (server.active_exchanges() == 0) std::this_thread::yield();
    client.Close();
  }
  ASSERT_EQ(gone.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(held->client_gone());
  held->Respond(200, "text/plain", "too late");  // Harmless.
  EXPECT_EQ(server.active_exchanges(), 0);
}

TEST(HttpServerTest, ADroppedExchangeGets500) {
  HttpServer server(Local(), [](std::shared_ptr<HttpExchange>) {});
  ASSERT_TRUE(server.Start().ok());
  Client client(server.port());
  auto r = client.Get("/dropped");
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_NE(r.body().find("dropped without a reply"), std::string::npos);
}

TEST(HttpServerTest, ShutdownFinishesRepliesInProgress) {
  std::promise<std::shared_ptr<HttpExchange>> arrived;
  HttpServer server(Local(), [&](std::shared_ptr<HttpExchange> ex) {
    ex->StartStream(200, "text/plain");
    ex->Write("first ");
    arrived.set_value(ex);
  });
  ASSERT_TRUE(server.Start().ok());
  const int port = server.port();
  Client client(port);
  client.SendRaw("GET /long HTTP/1.1\r\nHost: x\r\n\r\n");
  std::shared_ptr<HttpExchange> ex = arrived.get_future().get();
  std::thread stopper([&] { server.Shutdown(absl::Seconds(60)); });
  ex->Write("second");
  ex->End();
  auto r = client.Read();
  EXPECT_EQ(r.body(), "first second");
  stopper.join();
  EXPECT_TRUE(client.Closed());
  // No longer accepting.
  net::io_context ioc;
  tcp::socket s(ioc);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
  EXPECT_TRUE(ec);
}

}  // namespace
}  // namespace sllm::http
