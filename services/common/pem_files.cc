#include "services/common/pem_files.h"

#include <errno.h>
#include <string.h>

#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "services/common/absl_view.h"

namespace sllm {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// The oldest queued OpenSSL error as text (and clears the queue), or "no details".
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no details";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

absl::Status FileError(std::string_view setting, const std::string& path,
                       std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(AbslView(setting), "=", path, ": ", AbslView(problem)));
}

absl::StatusOr<std::string> ReadFile(std::string_view setting, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileError(setting, path, absl::StrCat("cannot read: ", strerror(errno)));
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return FileError(setting, path, "cannot read");
  return contents.str();
}

BioPtr MemoryBio(const std::string& data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// Refuses to prompt for a passphrase: an encrypted key fails to load.
int NoPassword(char*, int, int, void*) { return 0; }

X509Ptr FirstCertificate(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, NoPassword, nullptr));
}

KeyPtr PrivateKey(const std::string& pem) {
  BioPtr bio = MemoryBio(pem);
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr));
}

}  // namespace

absl::StatusOr<std::string> ReadPemCertificates(std::string_view setting,
                                                const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(setting, path);
  if (!pem.ok()) return pem.status();
  if (FirstCertificate(*pem) == nullptr) {
    return FileError(setting, path,
                     absl::StrCat("no PEM certificate in the file (", OpenSslError(), ")"));
  }
  return pem;
}

absl::StatusOr<std::string> ReadPemPrivateKey(std::string_view setting, const std::string& path) {
  absl::StatusOr<std::string> pem = ReadFile(setting, path);
  if (!pem.ok()) return pem.status();
  if (PrivateKey(*pem) == nullptr) {
    return FileError(setting, path,
                     absl::StrCat("no unencrypted PEM private key in the file (", OpenSslError(),
                                  ")"));
  }
  return pem;
}

absl::Status CheckKeyMatchesCertificate(std::string_view cert_setting, const std::string& cert_pem,
                                        std::string_view key_setting, const std::string& key_pem) {
  X509Ptr cert = FirstCertificate(cert_pem);
  KeyPtr key = PrivateKey(key_pem);
  if (cert == nullptr || key == nullptr || X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(key_setting), " is not the private key of the certificate in ",
                     AbslView(cert_setting)));
  }
  return absl::OkStatus();
}

}  // namespace sllm
