// API keys for the public fronts: who may call the gateway, and how much.
//
// Keys come from a file (one per line: "NAME:SECRET" or "SECRET"; blank lines and "#" comments
// ignored) or an environment variable (the same entries, comma-separated). A presented secret is
// compared in constant time: its SHA-256 digest against every key's with CRYPTO_memcmp, without
// stopping at a match, so neither the secret's length nor how much of it is right shows in the
// time taken. Only the key's NAME appears in errors and logs.
//
// Per key: a token-bucket rate limit (requests per minute, bursts up to a minute's worth) and a
// cap on requests in flight; both refuse with RESOURCE_EXHAUSTED and a retry hint (429).
#ifndef SLLM_GATEWAY_AUTH_API_KEYS_H_
#define SLLM_GATEWAY_AUTH_API_KEYS_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace sllm::gateway {

struct ApiKeyEntry {
  std::string name;    // Shown in errors; never the secret.
  std::string secret;
};

// Parses key entries (see above); `source` names the file or variable in errors.
// INVALID_ARGUMENT for an empty secret, whitespace inside one, or a duplicate name or secret.
absl::StatusOr<std::vector<ApiKeyEntry>> ParseApiKeys(std::string_view text, char separator,
                                                      std::string_view source);
// Reads a keys file (NOT_FOUND naming it when it cannot be read).
absl::StatusOr<std::vector<ApiKeyEntry>> LoadApiKeyFile(const std::string& path);

struct ApiKeyLimits {
  double requests_per_minute = 0;  // Per key; 0 = unlimited.
  int max_in_flight = 0;           // Per key; 0 = unlimited.
};

class ApiKeyAuth {
 private:
  struct KeyState;

 public:
  // No keys: authentication is off and every request is admitted (no limits apply).
  ApiKeyAuth(std::vector<ApiKeyEntry> keys, ApiKeyLimits limits,
             std::function<absl::Time()> now = absl::Now);
  ~ApiKeyAuth();

  bool enabled() const { return !keys_.empty(); }

  // Holds one of a key's in-flight slots until destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    const std::string& key_name() const;  // "" when authentication is off.

   private:
    friend class ApiKeyAuth;
    Lease(ApiKeyAuth* auth, KeyState* key) : auth_(auth), key_(key) {}
    void Release();
    ApiKeyAuth* auth_ = nullptr;
    KeyState* key_ = nullptr;
  };

  // Admits a request carrying `authorization` (an "Authorization" header or gRPC metadata
  // value, "Bearer SECRET"): UNAUTHENTICATED when it is missing or matches no key,
  // RESOURCE_EXHAUSTED (OverloadedError) when the key is over its rate or in-flight limit.
  absl::StatusOr<Lease> Admit(std::string_view authorization);

 private:
  KeyState* Find(std::string_view secret) const;

  std::vector<std::unique_ptr<KeyState>> keys_;
  const ApiKeyLimits limits_;
  const std::function<absl::Time()> now_;
  std::mutex mu_;  // Guards every KeyState's tokens, refill time and in_flight.
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_AUTH_API_KEYS_H_
