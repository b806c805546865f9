// The OpenSSL context of the HTTPS server: certificate chain, key, and optionally the CAs that
// client certificates must chain to. Internal to gateway/http (it exposes Boost.Asio).
#ifndef SLLM_GATEWAY_HTTP_TLS_CONTEXT_H_
#define SLLM_GATEWAY_HTTP_TLS_CONTEXT_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "boost/asio/ssl/context.hpp"

namespace sllm::http {

// A TLS 1.2+ server context. `client_ca_file` non-empty: peers must present a certificate
// signed by one of its CAs. INVALID_ARGUMENT naming the file when one cannot be loaded or the
// key does not match the certificate.
absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file, const std::string& client_ca_file);

}  // namespace sllm::http

#endif  // SLLM_GATEWAY_HTTP_TLS_CONTEXT_H_
