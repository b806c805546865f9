// For tests: a throwaway public-key infrastructure made with OpenSSL in a fresh temporary
// folder (removed by the destructor). Keys are ECDSA P-256, certificates valid for a day.
#ifndef SLLM_SERVICES_COMMON_TEST_CERTS_H_
#define SLLM_SERVICES_COMMON_TEST_CERTS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace sllm::testing {

class TestCerts {
 public:
  // Writes every file below. INTERNAL when OpenSSL or the file system fails.
  static absl::StatusOr<std::unique_ptr<TestCerts>> Create();
  ~TestCerts();
  TestCerts(const TestCerts&) = delete;
  TestCerts& operator=(const TestCerts&) = delete;

  // Paths of PEM files.
  std::string ca_cert;      // The trusted CA (self-signed).
  std::string server_cert;  // Signed by the CA: CN=localhost, SAN DNS:localhost, IP:127.0.0.1.
  std::string server_key;
  std::string client_cert;  // Signed by the CA, for client authentication (CN=sllm-client).
  std::string client_key;
  std::string other_ca_cert;  // A second CA that nothing here trusts.
  std::string other_server_cert;  // Signed by the other CA, same names as server_cert.
  std::string other_server_key;
  std::string other_client_cert;  // Signed by the other CA.
  std::string other_client_key;

 private:
  TestCerts() = default;
  std::string dir_;
};

}  // namespace sllm::testing

#endif  // SLLM_SERVICES_COMMON_TEST_CERTS_H_
