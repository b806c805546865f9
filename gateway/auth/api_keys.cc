#include "gateway/auth/api_keys.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gateway/validation/error_mapping.h"
#include "services/common/absl_view.h"

namespace sllm::gateway {
namespace {

using Digest = std::array<unsigned char, 32>;

Digest Sha256(std::string_view data) {
  Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

}  // namespace

struct ApiKeyAuth::KeyState {
  std::string name;
  Digest digest;
  double tokens = 0;      // Rate-limit bucket.
  absl::Time refilled;    // When `tokens` was last brought up to date.
  int in_flight = 0;
};

absl::StatusOr<std::vector<ApiKeyEntry>> ParseApiKeys(std::string_view text, char separator,
                                                      std::string_view source) {
  std::vector<ApiKeyEntry> keys;
  std::set<std::string> names, secrets;
  int n = 0;
  for (absl::string_view raw : absl::StrSplit(AbslView(text), separator)) {
    ++n;
    const absl::string_view entry = absl::StripAsciiWhitespace(raw);
    if (entry.empty() || absl::StartsWith(entry, "#")) continue;
    ApiKeyEntry key;
    const size_t colon = entry.find(':');
    if (colon == absl::string_view::npos) {
      key.name = absl::StrCat("key-", keys.size() + 1);
      key.secret = std::string(entry);
    } else {
      key.name = std::string(absl::StripAsciiWhitespace(entry.substr(0, colon)));
      key.secret = std::string(absl::StripAsciiWhitespace(entry.substr(colon + 1)));
    }
    const std::string where = absl::StrCat(AbslView(source), " entry ", n);
    if (key.secret.empty() || key.name.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": must be NAME:SECRET or SECRET with both parts non-empty"));
    }
    if (std::any_of(key.secret.begin(), key.secret.end(),
                    [](char c) { return absl::ascii_isspace(static_cast<unsigned char>(c)); })) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (key '", key.name, "'): the secret contains whitespace"));
    }
    if (!names.insert(key.name).second || !secrets.insert(key.secret).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, " (key '", key.name, "'): duplicate name or secret"));
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

absl::StatusOr<std::vector<ApiKeyEntry>> LoadApiKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the API key file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return ParseApiKeys(text.str(), '\n', path);
}

ApiKeyAuth::ApiKeyAuth(std::vector<ApiKeyEntry> keys, ApiKeyLimits limits,
                       std::function<absl::Time()> now)
    : limits_(limits), now_(std::move(now)) {
  const absl::Time start = now_();
  for (ApiKeyEntry& k : keys) {
    auto state = std::make_unique<KeyState>();
    state->name = std::move(k.name);
    state->digest = Sha256(k.secret);
    state->tokens = limits_.requests_per_minute;
    state->refilled = start;
    keys_.push_back(std::move(state));
  }
}

ApiKeyAuth::~ApiKeyAuth() = default;

ApiKeyAuth::KeyState* ApiKeyAuth::Find(std::string_view secret) const {
  const Digest presented = Sha256(secret);
  KeyState* found = nullptr;
  // Every key is compared, whatever matched before.
  for (const auto& key : keys_) {
    const bool match = CRYPTO_memcmp(presented.data(), key->digest.data(), presented.size()) == 0;
    if (match) found = key.get();
  }
  return found;
}

absl::StatusOr<ApiKeyAuth::Lease> ApiKeyAuth::Admit(std::string_view authorization) {
  if (!enabled()) return Lease();
  absl::string_view value = absl::StripAsciiWhitespace(AbslView(authorization));
  if (value.empty()) {
    return absl::UnauthenticatedError(
        "this server needs an API key: send the header \"Authorization: Bearer <key>\" "
        "(gRPC: metadata \"authorization\")");
  }
  if (value.size() < 7 || !absl::EqualsIgnoreCase(value.substr(0, 7), "bearer ")) {
    return absl::UnauthenticatedError(
        "the authorization must be \"Bearer <key>\"; got another scheme");
  }
  const absl::string_view secret = absl::StripAsciiWhitespace(value.substr(7));
  KeyState* key = Find(std::string_view(secret.data(), secret.size()));
  if (key == nullptr) return absl::UnauthenticatedError("invalid API key");

  std::lock_guard<std::mutex> lock(mu_);
  if (limits_.requests_per_minute > 0) {
    const absl::Time now = now_();
    const double per_second = limits_.requests_per_minute / 60.0;
    key->tokens = std::min(limits_.requests_per_minute,
                           key->tokens + absl::ToDoubleSeconds(now - key->refilled) * per_second);
    key->refilled = now;
    if (key->tokens < 1.0) {
      const int retry = static_cast<int>(std::ceil((1.0 - key->tokens) / per_second));
      return OverloadedError(
          absl::StrCat("API key '", key->name, "' is over its rate limit of ",
                       limits_.requests_per_minute, " requests per minute"),
          std::max(1, retry));
    }
  }
  if (limits_.max_in_flight > 0 && key->in_flight >= limits_.max_in_flight) {
    return OverloadedError(absl::StrCat("API key '", key->name, "' already has ", key->in_flight,
                                        " requests in flight (limit ", limits_.max_in_flight,
                                        ")"),
                           /*retry_after_seconds=*/1);
  }
  if (limits_.requests_per_minute > 0) key->tokens -= 1.0;
  ++key->in_flight;
  return Lease(this, key);
}

ApiKeyAuth::Lease::Lease(Lease&& other) noexcept : auth_(other.auth_), key_(other.key_) {
  other.auth_ = nullptr;
  other.key_ = nullptr;
}

ApiKeyAuth::Lease& ApiKeyAuth::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    auth_ = other.auth_;
    key_ = other.key_;
    other.auth_ = nullptr;
    other.key_ = nullptr;
  }
  return *this;
}

ApiKeyAuth::Lease::~Lease() { Release(); }

void ApiKeyAuth::Lease::Release() {
  if (key_ == nullptr) return;
  std::lock_guard<std::mutex> lock(auth_->mu_);
  --key_->in_flight;
  key_ = nullptr;
}

const std::string& ApiKeyAuth::Lease::key_name() const {
  static const std::string* const kNone = new std::string();
  return key_ == nullptr ? *kNone : key_->name;
}

}  // namespace sllm::gateway
