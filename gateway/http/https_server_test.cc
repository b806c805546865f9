// HTTPS on the HTTP server over real loopback sockets on port 0, with a verifying Beast
// ssl_stream client and certificates made by the test.
#include <chrono>
#include <string>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gateway/http/http_server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/test_certs.h"

namespace sllm::http {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Response = bhttp::response<bhttp::string_body>;

// Client-side TLS settings.
struct ClientTls {
  std::string ca_file;  // Verifies the server.
  std::string cert_file, key_file;  // Presented when set.
};

// One TLS connection with a blocking Beast client that verifies the server as "localhost".
class TlsClient {
 public:
  TlsClient(int port, const ClientTls& tls) : ctx_(Context(tls)), stream_(ioc_, ctx_) {
    stream_.set_verify_mode(ssl::verify_peer);
    stream_.set_verify_callback(ssl::host_name_verification("localhost"));
    SSL_set_tlsext_host_name(stream_.native_handle(), "localhost");
    beast::get_lowest_layer(stream_).connect(
        tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(20));
  }

  // The handshake's error (none when it succeeded).
  beast::error_code Handshake() {
    beast::error_code ec;
    stream_.handshake(ssl::stream_base::client, ec);
    return ec;
  }

  // Sends a GET and reads the reply; `ec` receives the first error.
  Response Get(const std::string& target, beast::error_code& ec, bool keep_alive = true) {
    bhttp::request<bhttp::empty_body> req(bhttp::verb::get, target, 11);
    req.set(bhttp::field::host, "localhost");
    req.keep_alive(keep_alive);
    bhttp::write(stream_, req, ec);
    Response res;
    if (!ec) bhttp::read(stream_, buffer_, res, ec);
    return res;
  }

  // After a reply with Connection: close: the error that ends the stream (eof when the
  // server sent close_notify).
  beast::error_code ReadToEnd() {
    char c;
    beast::error_code ec;
    stream_.read_some(net::buffer(&c, 1), ec);
    return ec;
  }

 private:
  // The stream copies the certificate from the context when it is made: fill it in first.
  static ssl::context Context(const ClientTls& tls) {
    ssl::context ctx(ssl::context::tls_client);
    ctx.load_verify_file(tls.ca_file);
    if (!tls.cert_file.empty()) {
      ctx.use_certificate_chain_file(tls.cert_file);
      ctx.use_private_key_file(tls.key_file, ssl::context::pem);
    }
    return ctx;
  }

  net::io_context ioc_;
  ssl::context ctx_;
  beast::ssl_stream<beast::tcp_stream> stream_;
  beast::flat_buffer buffer_;
};

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = testing::TestCerts::Create();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = std::move(*certs);
  }

  HttpServerOptions Options(bool require_client_cert = false) const {
    HttpServerOptions o;
    o.host = "127.0.0.1";
    o.tls_cert_file = certs_->server_cert;
    o.tls_key_file = certs_->server_key;
    if (require_client_cert) o.tls_client_ca_file = certs_->ca_cert;
    return o;
  }

  void StartServer(HttpServerOptions options) {
    server_ = std::make_unique<HttpServer>(options, [](std::shared_ptr<HttpExchange> ex) {
      if (ex->request().path == "/stream") {
        ex->StartStream(200, "text/event-stream");
        ex->Write("data: a\n\n");
        ex->Write("data: b\n\n");
        ex->End();
        return;
      }
      ex->Respond(200, "text/plain", "hello " + ex->request().path);
    });
    ASSERT_TRUE(server_->Start().ok());
  }

  // One verified GET on a fresh connection: the body, or "error: ...".
  std::string GetOnce(const ClientTls& tls, const std::string& target) {
    TlsClient client(server_->port(), tls);
    if (beast::error_code ec = client.Handshake()) return "error: " + ec.message();
    beast::error_code ec;
    Response res = client.Get(target, ec);
    if (ec) return "error: " + ec.message();
    return res.body();
  }

  ClientTls Trusting() const { return {.ca_file = certs_->ca_cert}; }

  std::unique_ptr<testing::TestCerts> certs_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpsServerTest, ServesVerifiedRequestsWithKeepAliveStreamingAndClose) {
  StartServer(Options());
  TlsClient client(server_->port(), Trusting());
  ASSERT_FALSE(client.Handshake());
  beast::error_code ec;
  EXPECT_EQ(client.Get("/a", ec).body(), "hello /a");
  ASSERT_FALSE(ec) << ec.message();
  // Same connection, a chunked (SSE) reply.
  Response streamed = client.Get("/stream", ec);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(streamed.body(), "data: a\n\ndata: b\n\n");
  // Connection: close ends with the TLS close_notify, which the client reads as a clean EOF.
  Response last = client.Get("/b", ec, /*keep_alive=*/false);
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(last.body(), "hello /b");
  EXPECT_FALSE(last.keep_alive());
  EXPECT_EQ(client.ReadToEnd(), net::error::eof);
  EXPECT_EQ(server_->active_exchanges(), 0);
}

TEST_F(HttpsServerTest, ClientThatDoesNotTrustTheServerFailsTheHandshake) {
  StartServer(Options());
  EXPECT_THAT(GetOnce({.ca_file = certs_->other_ca_cert}, "/x"),
              ::testing::HasSubstr("certificate verify failed"));
  EXPECT_EQ(GetOnce(Trusting(), "/y"), "hello /y");
}

// Plain HTTP to the HTTPS port: the connection is closed (no hang, no crash), and the server
// goes on serving.
TEST_F(HttpsServerTest, PlainHttpOnTheTlsPortIsClosed) {
  StartServer(Options());
  for (int i = 0; i < 3; ++i) {
    net::io_context ioc;
    beast::tcp_stream plain(ioc);
    plain.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
    plain.expires_after(std::chrono::seconds(20));
    bhttp::request<bhttp::empty_body> req(bhttp::verb::get, "/plain", 11);
    req.set(bhttp::field::host, "localhost");
    beast::error_code ec;
    bhttp::write(plain, req, ec);
    ASSERT_FALSE(ec) << ec.message();
    beast::flat_buffer buffer;
    Response res;
    bhttp::read(plain, buffer, res, ec);
    // Closed: EOF, a reset, or bytes that are not HTTP (a TLS alert); never a timeout.
    EXPECT_TRUE(ec) << "got an HTTP reply on the TLS port";
    EXPECT_NE(ec, beast::error::timeout);
    EXPECT_EQ(GetOnce(Trusting(), "/after"), "hello /after");
  }
}

TEST_F(HttpsServerTest, SilentConnectionIsClosedAfterTheHandshakeTimeout) {
  HttpServerOptions options = Options();
  options.tls_handshake_timeout = absl::Milliseconds(200);
  StartServer(options);
  net::io_context ioc;
  beast::tcp_stream idle(ioc);
  idle.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), server_->port()));
  idle.expires_after(std::chrono::seconds(20));
  const auto start = std::chrono::steady_clock::now();
  char c;
  beast::error_code ec;
  idle.read_some(net::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == net::error::eof || ec == net::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  // Meanwhile and afterwards, the event loop serves others.
  EXPECT_EQ(GetOnce(Trusting(), "/ok"), "hello /ok");
}

TEST_F(HttpsServerTest, ClientCertificatesAreRequiredWhenAClientCaIsGiven) {
  StartServer(Options(/*require_client_cert=*/true));
  ClientTls with_cert = Trusting();
  with_cert.cert_file = certs_->client_cert;
  with_cert.key_file = certs_->client_key;
  EXPECT_EQ(GetOnce(with_cert, "/mtls"), "hello /mtls");

  // No certificate, or one from a CA the server does not trust: no reply. (With TLS 1.3 the
  // client learns of the refusal only when it reads.)
  EXPECT_THAT(GetOnce(Trusting(), "/none"), ::testing::StartsWith("error: "));
  ClientTls untrusted = Trusting();
  untrusted.cert_file = certs_->other_client_cert;
  untrusted.key_file = certs_->other_client_key;
  EXPECT_THAT(GetOnce(untrusted, "/untrusted"), ::testing::StartsWith("error: "));
  EXPECT_EQ(GetOnce(with_cert, "/again"), "hello /again");
}

TEST_F(HttpsServerTest, BadFilesFailTheStartNamingTheFile) {
  const std::string missing = certs_->server_cert + ".missing";
  HttpServerOptions options = Options();
  options.tls_cert_file = missing;
  absl::Status st = HttpServer(options, [](std::shared_ptr<HttpExchange>) {}).Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr(missing));

  options = Options();
  options.tls_key_file = certs_->client_key;  // Not the server certificate's key.
  st = HttpServer(options, [](std::shared_ptr<HttpExchange>) {}).Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(st.message()), ::testing::HasSubstr(certs_->client_key));

  options = Options();
  options.tls_key_file = "";
  st = HttpServer(options, [](std::shared_ptr<HttpExchange>) {}).Start();
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sllm::http
