#include "services/common/tls_credentials.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "services/common/pem_files.h"
#include "services/common/status_macros.h"

namespace sllm {
namespace {

// A certificate chain and its key, both required, read and matched. Empty when neither is set.
absl::StatusOr<grpc::SslServerCredentialsOptions::PemKeyCertPair> ReadKeyCertPair(
    const std::string& prefix, const std::string& cert_file, const std::string& key_file) {
  const std::string cert_setting = prefix + "cert";
  const std::string key_setting = prefix + "key";
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert_setting, " and ", key_setting, " go together: give both or neither"));
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  if (cert_file.empty()) return pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPemCertificates(cert_setting, cert_file));
  ASSIGN_OR_RETURN(pair.private_key, ReadPemPrivateKey(key_setting, key_file));
  RETURN_IF_ERROR(
      CheckKeyMatchesCertificate(cert_setting, pair.cert_chain, key_setting, pair.private_key));
  return pair;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(
    const ServerTlsOptions& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  const std::string& prefix = tls.setting_prefix;
  if (tls.cert_file.empty() && tls.key_file.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "client_ca needs ", prefix, "cert and ",
                                                   prefix, "key (the server's own certificate)"));
  }
  ASSIGN_OR_RETURN(auto pair, ReadKeyCertPair(prefix, tls.cert_file, tls.key_file));
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!tls.client_ca_file.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs,
                     ReadPemCertificates(prefix + "client_ca", tls.client_ca_file));
    options.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

ChannelSecurity::ChannelSecurity() : credentials_(grpc::InsecureChannelCredentials()) {}

ChannelSecurity::ChannelSecurity(std::shared_ptr<grpc::ChannelCredentials> credentials,
                                 std::string server_name)
    : credentials_(std::move(credentials)), server_name_(std::move(server_name)), tls_(true) {}

std::shared_ptr<grpc::Channel> ChannelSecurity::CreateChannel(const std::string& target,
                                                              grpc::ChannelArguments args) const {
  if (!server_name_.empty()) args.SetSslTargetNameOverride(server_name_);
  return grpc::CreateCustomChannel(target, credentials_, args);
}

absl::StatusOr<ChannelSecurity> MakeChannelSecurity(const ClientTlsOptions& tls) {
  if (!tls.enabled()) return ChannelSecurity();
  const std::string& prefix = tls.setting_prefix;
  ASSIGN_OR_RETURN(auto pair, ReadKeyCertPair(prefix, tls.cert_file, tls.key_file));
  grpc::SslCredentialsOptions options;
  if (!tls.ca_file.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPemCertificates(prefix + "ca", tls.ca_file));
  }
  options.pem_cert_chain = std::move(pair.cert_chain);
  options.pem_private_key = std::move(pair.private_key);
  return ChannelSecurity(grpc::SslCredentials(options), tls.server_name);
}

}  // namespace sllm
