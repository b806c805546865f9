// TLS end to end in one process, with certificates made by the test: the tokenizer service and
// a worker shard require client certificates (mTLS); the gateway dials them with its client
// certificate and serves its public gRPC front over TLS and its OpenAI front over HTTPS.
#include <chrono>
#include <string>
#include <utility>  // Before Boost: its awaitable.hpp uses std::exchange.

#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "gateway/server/gateway_server.h"
#include "gateway/server/local_backends.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/test_certs.h"
#include "services/common/test_util.h"
#include "services/common/tls_credentials.h"
#include "sllm/v1/generation.grpc.pb.h"
#include "sllm/v1/tokenizer.grpc.pb.h"

namespace sllm::gateway {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using json = nlohmann::json;

// POSTs JSON over HTTPS to 127.0.0.1:`port`, verifying the server as "localhost" with
// `ca_file`. Returns the status and body.
std::pair<int, std::string> HttpsPost(int port, const std::string& ca_file,
                                      const std::string& target, const json& body) {
  net::io_context ioc;
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(ca_file);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
  stream.set_verify_mode(ssl::verify_peer);
  stream.set_verify_callback(ssl::host_name_verification("localhost"));
  beast::get_lowest_layer(stream).connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(60));
  stream.handshake(ssl::stream_base::client);
  bhttp::request<bhttp::string_body> req(bhttp::verb::post, target, 11);
  req.set(bhttp::field::host, "localhost");
  req.set(bhttp::field::content_type, "application/json");
  req.body() = body.dump();
  req.prepare_payload();
  bhttp::write(stream, req);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(stream, buffer, res);
  return {res.result_int(), res.body()};
}

class GatewayTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto certs = testing::TestCerts::Create();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = certs->release();
    backends_ = new LocalBackends();
    worker::EngineOptions engine;
    engine.num_threads = 1;
    const ServerTlsOptions mtls = {.cert_file = certs_->server_cert,
                                   .key_file = certs_->server_key,
                                   .client_ca_file = certs_->ca_cert};
    ASSERT_TRUE(backends_->Start(1, engine, mtls).ok());
    started_ = true;
  }
  void SetUp() override { ASSERT_TRUE(started_) << "the backends did not start; see above"; }
  static void TearDownTestSuite() {
    delete backends_;
    delete certs_;
  }

  // A gateway whose public fronts serve TLS and which dials the backends with `upstream`.
  static std::unique_ptr<GatewayServer> StartGateway(const ClientTlsOptions& upstream) {
    GatewayServerOptions o = backends_->GatewayOptions();
    o.grpc.tls = {.cert_file = certs_->server_cert, .key_file = certs_->server_key};
    o.http.tls_cert_file = certs_->server_cert;
    o.http.tls_key_file = certs_->server_key;
    auto security = MakeChannelSecurity(upstream);
    EXPECT_TRUE(security.ok()) << security.status();
    if (security.ok()) o.upstream = *security;
    auto gateway = std::make_unique<GatewayServer>(o);
    absl::Status st = gateway->Start();
    EXPECT_TRUE(st.ok()) << st;
    return st.ok() ? std::move(gateway) : nullptr;
  }

  // A stub for the gateway's public gRPC front over TLS.
  static std::unique_ptr<v1::Generation::Stub> PublicStub(const GatewayServer& gateway) {
    auto security = MakeChannelSecurity({.ca_file = certs_->ca_cert});
    EXPECT_TRUE(security.ok()) << security.status();
    return v1::Generation::NewStub(security->CreateChannel(gateway.grpc_target()));
  }

  static grpc::Status Tokenize(v1::Generation::Stub& stub, v1::TokenizeResponse* response) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::TokenizeRequest request;
    request.set_model("stories260K");
    request.set_text("Once upon a time");
    return stub.Tokenize(&ctx, request, response);
  }

  // The gateway is refused by the shard (it never learns the model, so requests fail with
  // NOT_FOUND), and the tokenizer refuses the same client settings.
  static void ExpectBackendsRefuse(const ClientTlsOptions& upstream) {
    auto gateway = StartGateway(upstream);
    ASSERT_NE(gateway, nullptr);
    EXPECT_TRUE(gateway->shards().Models().empty());
    v1::TokenizeResponse ignored;
    EXPECT_EQ(Tokenize(*PublicStub(*gateway), &ignored).error_code(),
              grpc::StatusCode::NOT_FOUND);

    auto security = MakeChannelSecurity(upstream);
    ASSERT_TRUE(security.ok()) << security.status();
    auto tokenizer =
        v1::TokenizerService::NewStub(security->CreateChannel(backends_->tokenizer_target()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    v1::ListTokenizerModelsResponse models;
    EXPECT_EQ(tokenizer->ListModels(&ctx, v1::ListTokenizerModelsRequest(), &models).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }

  static inline bool started_ = false;
  static inline testing::TestCerts* certs_;
  static inline LocalBackends* backends_;
};

TEST_F(GatewayTlsTest, EveryHopOverTlsWithClientCertificatesUpstream) {
  auto gateway = StartGateway({.ca_file = certs_->ca_cert,
                               .cert_file = certs_->client_cert,
                               .key_file = certs_->client_key});
  ASSERT_NE(gateway, nullptr);
  auto stub = PublicStub(*gateway);
  // Gateway -> tokenizer.
  v1::TokenizeResponse tokens;
  grpc::Status st = Tokenize(*stub, &tokens);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_GT(tokens.ids_size(), 0);
  // Gateway -> tokenizer -> worker shard, on the gRPC front.
  ASSERT_FALSE(gateway->shards().Models().empty()) << "the shard poll failed";
  grpc::ClientContext ctx;
  v1::GenerateRequest g;
  g.set_model("stories260K");
  g.set_text("Once upon a time");
  g.mutable_params()->set_max_tokens(12);
  g.mutable_params()->set_temperature(0);
  v1::GenerateResponse generated;
  st = stub->Generate(&ctx, g, &generated);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_FALSE(generated.text().empty());
  // The same over HTTPS.
  auto [status, body] = HttpsPost(gateway->http_port(), certs_->ca_cert, "/v1/completions",
                                  {{"model", "stories260K"},
                                   {"prompt", "Once upon a time"},
                                   {"max_tokens", 12},
                                   {"temperature", 0}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(json::parse(body)["choices"][0]["text"], generated.text());
  // The public front refuses plaintext.
  v1::TokenizeResponse ignored;
  EXPECT_EQ(Tokenize(*v1::Generation::NewStub(testing::InsecureChannel(gateway->grpc_target())),
                     &ignored)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GatewayTlsTest, BackendsRefuseAGatewayWithoutAClientCertificate) {
  ExpectBackendsRefuse({.ca_file = certs_->ca_cert});
}

TEST_F(GatewayTlsTest, BackendsRefuseAGatewayWithAnUntrustedClientCertificate) {
  ExpectBackendsRefuse({.ca_file = certs_->ca_cert,
                        .cert_file = certs_->other_client_cert,
                        .key_file = certs_->other_client_key});
}

}  // namespace
}  // namespace sllm::gateway
