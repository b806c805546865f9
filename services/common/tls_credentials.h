// TLS for gRPC, from certificate files: server credentials (optionally requiring client
// certificates: mTLS) and client channel security. Files are read and checked once, when the
// credentials are made; errors name the setting (flag) and the file.
//
//   ASSIGN_OR_RETURN(ChannelSecurity security, MakeChannelSecurity(client_tls));
//   auto channel = security.CreateChannel("tokenizer:50051", InternalChannelArguments());
#ifndef SLLM_SERVICES_COMMON_TLS_CREDENTIALS_H_
#define SLLM_SERVICES_COMMON_TLS_CREDENTIALS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace sllm {

// A TLS listener. All empty: plaintext.
struct ServerTlsOptions {
  // PEM certificate chain the server presents (leaf first).
  std::string cert_file;
  // PEM private key of the leaf certificate (unencrypted).
  std::string key_file;
  // PEM CA certificates. Set: every client must present a certificate signed by one of them
  // (mTLS); connections without one fail the handshake. Empty: no client certificates.
  std::string client_ca_file;
  // Prefix of the setting names in error messages: "--tls_" gives "--tls_cert=PATH: ...".
  std::string setting_prefix = "--tls_";

  // TLS is on when any file is set (and then cert_file and key_file are both required).
  bool enabled() const {
    return !cert_file.empty() || !key_file.empty() || !client_ca_file.empty();
  }
};

// Credentials for a listener: insecure when `tls` is not enabled; else TLS, with mTLS when a
// client CA is given. INVALID_ARGUMENT naming the setting and file when one is missing,
// unreadable, not PEM, or when the key does not match the certificate.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& tls);

// A client's side of TLS. All empty: plaintext.
struct ClientTlsOptions {
  // PEM CA certificates that verify the server. Empty (with another field set): gRPC's default
  // roots (the system's).
  std::string ca_file;
  // A client certificate chain and its key, for servers that require one (mTLS).
  std::string cert_file;
  std::string key_file;
  // The name checked against the server's certificate instead of the target's host (for
  // targets given as IP addresses or names the certificate does not list). Empty: the host.
  std::string server_name;
  // Prefix of the setting names in error messages: "--upstream_tls_" gives
  // "--upstream_tls_ca=PATH: ...".
  std::string setting_prefix = "--upstream_tls_";

  // TLS is on when any file or the server name is set.
  bool enabled() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty() || !server_name.empty();
  }
};

// How a client dials: channel credentials plus the channel arguments TLS needs. Cheap to copy;
// the default is plaintext.
class ChannelSecurity {
 public:
  ChannelSecurity();
  ChannelSecurity(std::shared_ptr<grpc::ChannelCredentials> credentials, std::string server_name);

  // A channel to `target` with `args` and this security.
  std::shared_ptr<grpc::Channel> CreateChannel(const std::string& target,
                                               grpc::ChannelArguments args = {}) const;
  bool tls() const { return tls_; }

 private:
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::string server_name_;
  bool tls_ = false;
};

// Plaintext when `tls` is not enabled; else TLS verified with the given CA (or the system's
// roots), presenting the client certificate when one is given. INVALID_ARGUMENT naming the
// setting and file on a bad file, or when only one of cert_file and key_file is set.
absl::StatusOr<ChannelSecurity> MakeChannelSecurity(const ClientTlsOptions& tls);

}  // namespace sllm

#endif  // SLLM_SERVICES_COMMON_TLS_CREDENTIALS_H_
