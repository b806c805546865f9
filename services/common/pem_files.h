// Reading TLS material from PEM files, checked with OpenSSL so that a wrong file fails at
// startup with the setting and the path in the message (gRPC itself would only log a handshake
// error per connection, or fail to build the server without saying why).
#ifndef SLLM_SERVICES_COMMON_PEM_FILES_H_
#define SLLM_SERVICES_COMMON_PEM_FILES_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sllm {

// The contents of `path`, which must hold one or more PEM certificates. `setting` names where
// the path came from (e.g. "--tls_cert") and prefixes every error. INVALID_ARGUMENT when the
// file cannot be read or holds no parsable certificate.
absl::StatusOr<std::string> ReadPemCertificates(std::string_view setting, const std::string& path);

// The contents of `path`, which must hold an unencrypted PEM private key.
absl::StatusOr<std::string> ReadPemPrivateKey(std::string_view setting, const std::string& path);

// INVALID_ARGUMENT unless `key_pem` is the private key of the first certificate in `cert_pem`.
absl::Status CheckKeyMatchesCertificate(std::string_view cert_setting, const std::string& cert_pem,
                                        std::string_view key_setting, const std::string& key_pem);

}  // namespace sllm

#endif  // SLLM_SERVICES_COMMON_PEM_FILES_H_
