// TLS and mTLS on a ServiceRunner's gRPC port, over real loopback channels, with certificates
// made by the test.
#include <chrono>
#include <fstream>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_certs.h"
#include "services/common/test_util.h"
#include "services/common/tls_credentials.h"

namespace sllm {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class ServerTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto certs = testing::TestCerts::Create();
    ASSERT_TRUE(certs.ok()) << certs.status();
    certs_ = std::move(*certs);
  }

  // Starts a runner with TLS on its gRPC port; mTLS when `require_client_cert`.
  void StartServer(bool require_client_cert) {
    ServerOptions options = testing::LocalServerOptions();
    options.metrics_port = -1;
    options.tls.cert_file = certs_->server_cert;
    options.tls.key_file = certs_->server_key;
    if (require_client_cert) options.tls.client_ca_file = certs_->ca_cert;
    runner_ = std::make_unique<ServiceRunner>(options);
    ASSERT_TRUE(runner_->Start().ok());
  }

  // Health/Check of the whole server through a channel with `tls`.
  grpc::Status Check(const ClientTlsOptions& tls, const std::string& target = "") {
    absl::StatusOr<ChannelSecurity> security = MakeChannelSecurity(tls);
    EXPECT_TRUE(security.ok()) << security.status();
    if (!security.ok()) return grpc::Status(grpc::StatusCode::INTERNAL, "bad client options");
    auto stub = Health::NewStub(
        security->CreateChannel(target.empty() ? runner_->local_target() : target));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, HealthCheckRequest(), &response);
    if (status.ok()) {
      EXPECT_EQ(response.status(), HealthCheckResponse::SERVING);
    }
    return status;
  }

  ClientTlsOptions TrustingClient() const { return {.ca_file = certs_->ca_cert}; }
  ClientTlsOptions ClientWithCert() const {
    return {.ca_file = certs_->ca_cert,
            .cert_file = certs_->client_cert,
            .key_file = certs_->client_key};
  }

  std::unique_ptr<testing::TestCerts> certs_;
  std::unique_ptr<ServiceRunner> runner_;
};

TEST_F(ServerTlsTest, TlsWorksWithTheRightCaOnly) {
  StartServer(/*require_client_cert=*/false);
  // The certificate names 127.0.0.1 and localhost.
  EXPECT_TRUE(Check(TrustingClient()).ok());
  EXPECT_TRUE(Check(TrustingClient(), "localhost:" + std::to_string(runner_->port())).ok());
  // A client certificate the server does not ask for does no harm.
  EXPECT_TRUE(Check(ClientWithCert()).ok());

  EXPECT_EQ(Check({.ca_file = certs_->other_ca_cert}).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(ClientTlsOptions{}).error_code(), grpc::StatusCode::UNAVAILABLE);  // Plaintext.
}

TEST_F(ServerTlsTest, ServerNameOverrideIsCheckedAgainstTheCertificate) {
  StartServer(/*require_client_cert=*/false);
  ClientTlsOptions tls = TrustingClient();
  tls.server_name = "localhost";
  EXPECT_TRUE(Check(tls).ok());
  tls.server_name = "tokenizer.example.com";
  EXPECT_EQ(Check(tls).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ServerTlsTest, MutualTlsRequiresATrustedClientCertificate) {
  StartServer(/*require_client_cert=*/true);
  EXPECT_TRUE(Check(ClientWithCert()).ok());

  EXPECT_EQ(Check(TrustingClient()).error_code(), grpc::StatusCode::UNAVAILABLE);
  ClientTlsOptions untrusted = TrustingClient();
  untrusted.cert_file = certs_->other_client_cert;
  untrusted.key_file = certs_->other_client_key;
  EXPECT_EQ(Check(untrusted).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(ClientTlsOptions{}).error_code(), grpc::StatusCode::UNAVAILABLE);
  // The server keeps serving good clients after refusing bad ones.
  EXPECT_TRUE(Check(ClientWithCert()).ok());
}

// Start() with `tls`: its error message, or "" when it started.
std::string StartError(const ServerTlsOptions& tls) {
  ServerOptions options = testing::LocalServerOptions();
  options.metrics_port = -1;
  options.tls = tls;
  ServiceRunner runner(options);
  absl::Status st = runner.Start();
  if (!st.ok()) {
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << st;
  }
  return std::string(st.message());
}

TEST_F(ServerTlsTest, BadFilesFailTheStartNamingTheFlagAndFile) {
  using ::testing::HasSubstr;
  const std::string missing = certs_->ca_cert + ".missing";
  EXPECT_THAT(StartError({.cert_file = missing, .key_file = certs_->server_key}),
              HasSubstr("--tls_cert=" + missing + ": cannot read: No such file"));
  EXPECT_THAT(StartError({.cert_file = certs_->server_key, .key_file = certs_->server_key}),
              HasSubstr("--tls_cert=" + certs_->server_key + ": no PEM certificate"));
  EXPECT_THAT(StartError({.cert_file = certs_->server_cert, .key_file = certs_->server_cert}),
              HasSubstr("--tls_key=" + certs_->server_cert + ": no unencrypted PEM private key"));
  EXPECT_THAT(StartError({.cert_file = certs_->server_cert, .key_file = certs_->client_key}),
              HasSubstr("--tls_key is not the private key of the certificate in --tls_cert"));
  EXPECT_THAT(StartError({.cert_file = certs_->server_cert}),
              HasSubstr("--tls_cert and --tls_key go together"));
  EXPECT_THAT(StartError({.client_ca_file = certs_->ca_cert}),
              HasSubstr("--tls_client_ca needs --tls_cert and --tls_key"));
  EXPECT_THAT(StartError({.cert_file = certs_->server_cert,
                          .key_file = certs_->server_key,
                          .client_ca_file = missing}),
              HasSubstr("--tls_client_ca=" + missing));
  EXPECT_EQ(StartError({.cert_file = certs_->server_cert, .key_file = certs_->server_key}), "");
}

TEST_F(ServerTlsTest, BadClientFilesNameTheFlagAndFile) {
  using ::testing::HasSubstr;
  auto st = MakeChannelSecurity({.ca_file = "/nonexistent/ca.pem"}).status();
  EXPECT_THAT(std::string(st.message()), HasSubstr("--upstream_tls_ca=/nonexistent/ca.pem"));
  st = MakeChannelSecurity({.ca_file = certs_->ca_cert, .cert_file = certs_->client_cert})
           .status();
  EXPECT_THAT(std::string(st.message()),
              HasSubstr("--upstream_tls_cert and --upstream_tls_key go together"));
  st = MakeChannelSecurity({.cert_file = certs_->client_cert,
                            .key_file = certs_->server_key,
                            .setting_prefix = "--"})
           .status();
  EXPECT_THAT(std::string(st.message()), HasSubstr("--key is not the private key"));
  EXPECT_FALSE(MakeChannelSecurity({})->tls());
  EXPECT_TRUE(MakeChannelSecurity(TrustingClient())->tls());
}

}  // namespace
}  // namespace sllm
