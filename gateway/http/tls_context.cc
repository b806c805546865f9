#include "gateway/http/tls_context.h"

#include "absl/strings/str_cat.h"
#include "services/common/absl_view.h"

namespace sllm::http {

namespace ssl = boost::asio::ssl;

absl::StatusOr<std::unique_ptr<ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file, const std::string& client_ca_file) {
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError(
        "HTTPS needs both a certificate chain and a private key file");
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                   ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  boost::system::error_code ec;
  const auto failed = [&](std::string_view what, const std::string& path) {
    return absl::InvalidArgumentError(absl::StrCat("HTTPS ", AbslView(what), " ", path,
                                                   ": ", ec.message()));
  };
  ctx->use_certificate_chain_file(cert_file, ec);
  if (ec) return failed("certificate chain", cert_file);
  // OpenSSL also checks here that the key belongs to the certificate.
  ctx->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return failed("private key", key_file);
  if (!client_ca_file.empty()) {
    ctx->load_verify_file(client_ca_file, ec);
    if (ec) return failed("client CA file", client_ca_file);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  return ctx;
}

}  // namespace sllm::http
