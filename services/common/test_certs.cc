#include "services/common/test_certs.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "openssl/bio.h"
#include "openssl/ec.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "openssl/x509v3.h"

namespace sllm::testing {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

absl::Status OpenSslFailure(const std::string& what) {
  char buf[256] = "no details";
  if (const unsigned long code = ERR_get_error(); code != 0) {
    ERR_error_string_n(code, buf, sizeof(buf));
  }
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", buf));
}

struct Issued {
  KeyPtr key;
  X509Ptr cert;
};

// Extensions as in openssl.cnf: {NID, value}.
using Extensions = std::vector<std::pair<int, std::string>>;

// A new key and a certificate for `common_name` with `extensions`, signed by `issuer` (self
// signed when null).
absl::StatusOr<Issued> Issue(const std::string& common_name, const Extensions& extensions,
                             const Issued* issuer, long serial) {
  Issued out;
  out.key.reset(EVP_EC_gen("P-256"));
  if (out.key == nullptr) return OpenSslFailure("EC key generation");
  out.cert.reset(X509_new());
  X509* cert = out.cert.get();
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, out.key.get());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("sllm tests"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key.get() : out.key.get();
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer_cert, cert, nullptr, nullptr, 0);
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) return OpenSslFailure(absl::StrCat("extension ", value));
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) return OpenSslFailure("signing");
  return out;
}

absl::StatusOr<Issued> IssueCa(const std::string& name, long serial) {
  return Issue(name,
               {{NID_basic_constraints, "critical,CA:TRUE"},
                {NID_key_usage, "critical,keyCertSign,cRLSign"},
                {NID_subject_key_identifier, "hash"}},
               nullptr, serial);
}

absl::StatusOr<Issued> IssueServer(const Issued& ca, long serial) {
  return Issue("localhost",
               {{NID_basic_constraints, "critical,CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature"},
                {NID_ext_key_usage, "serverAuth"},
                {NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                {NID_authority_key_identifier, "keyid"}},
               &ca, serial);
}

absl::StatusOr<Issued> IssueClient(const Issued& ca, long serial) {
  return Issue("sllm-client",
               {{NID_basic_constraints, "critical,CA:FALSE"},
                {NID_key_usage, "critical,digitalSignature"},
                {NID_ext_key_usage, "clientAuth"},
                {NID_authority_key_identifier, "keyid"}},
               &ca, serial);
}

absl::Status WritePem(const std::string& path, const Issued& issued, bool key) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "w"));
  if (bio == nullptr) return OpenSslFailure(absl::StrCat("opening ", path));
  const int ok = key ? PEM_write_bio_PrivateKey(bio.get(), issued.key.get(), nullptr, nullptr, 0,
                                                nullptr, nullptr)
                     : PEM_write_bio_X509(bio.get(), issued.cert.get());
  if (ok != 1) return OpenSslFailure(absl::StrCat("writing ", path));
  return absl::OkStatus();
}

// Writes the certificate to `dir`/`name`.pem and, when `key_path` is given, the key to
// `dir`/`name`.key.
absl::Status Save(const std::string& dir, const std::string& name, const Issued& issued,
                  std::string* cert_path, std::string* key_path) {
  *cert_path = absl::StrCat(dir, "/", name, ".pem");
  if (absl::Status st = WritePem(*cert_path, issued, false); !st.ok()) return st;
  if (key_path == nullptr) return absl::OkStatus();
  *key_path = absl::StrCat(dir, "/", name, ".key");
  return WritePem(*key_path, issued, true);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestCerts>> TestCerts::Create() {
  std::unique_ptr<TestCerts> certs(new TestCerts);
  std::string pattern = (std::filesystem::temp_directory_path() / "sllm-certs-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  certs->dir_ = pattern;
  const std::string& dir = certs->dir_;

  absl::StatusOr<Issued> ca = IssueCa("sllm test CA", 1);
  absl::StatusOr<Issued> other_ca = IssueCa("untrusted test CA", 2);
  if (!ca.ok()) return ca.status();
  if (!other_ca.ok()) return other_ca.status();
  absl::StatusOr<Issued> server = IssueServer(*ca, 10);
  absl::StatusOr<Issued> client = IssueClient(*ca, 11);
  absl::StatusOr<Issued> other_server = IssueServer(*other_ca, 20);
  absl::StatusOr<Issued> other_client = IssueClient(*other_ca, 21);
  for (const auto* issued : {&server, &client, &other_server, &other_client}) {
    if (!issued->ok()) return issued->status();
  }
  for (absl::Status st : {
           Save(dir, "ca", *ca, &certs->ca_cert, nullptr),
           Save(dir, "other-ca", *other_ca, &certs->other_ca_cert, nullptr),
           Save(dir, "server", *server, &certs->server_cert, &certs->server_key),
           Save(dir, "client", *client, &certs->client_cert, &certs->client_key),
           Save(dir, "other-server", *other_server, &certs->other_server_cert,
                &certs->other_server_key),
           Save(dir, "other-client", *other_client, &certs->other_client_cert,
                &certs->other_client_key),
       }) {
    if (!st.ok()) return st;
  }
  return certs;
}

TestCerts::~TestCerts() {
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

}  // namespace sllm::testing
