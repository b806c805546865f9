#include "gateway/auth/api_keys.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "gateway/validation/error_mapping.h"

namespace sllm::gateway {
namespace {

using ::testing::HasSubstr;

std::vector<ApiKeyEntry> Keys() {
  auto keys = ParseApiKeys("# team keys\nalice:sk-alice-0123456789\n\nsk-anonymous-9876\n", '\n',
                           "keys.txt");
  EXPECT_TRUE(keys.ok()) << keys.status();
  return *keys;
}

TEST(ApiKeysTest, ParsesNamedAndBareEntries) {
  const auto keys = Keys();
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_EQ(keys[0].name, "alice");
  EXPECT_EQ(keys[0].secret, "sk-alice-0123456789");
  EXPECT_EQ(keys[1].name, "key-2");
  auto env = ParseApiKeys("a:one, b:two", ',', "SLLM_API_KEYS");
  ASSERT_TRUE(env.ok()) << env.status();
  EXPECT_EQ(env->size(), 2u);
  for (const auto& [text, part] : std::vector<std::pair<std::string, std::string>>{
           {"alice:", "entry 1"}, {"a:x y", "whitespace"}, {"a:x\na:y", "duplicate"},
           {"a:x\nb:x", "duplicate"}}) {
    auto bad = ParseApiKeys(text, '\n', "keys.txt");
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(bad.status().message(), HasSubstr(part)) << text;
    // The secret never appears in an error.
    if (text == "a:x y") {
      EXPECT_THAT(bad.status().message(), ::testing::Not(HasSubstr("x y")));
    }
  }
  EXPECT_EQ(LoadApiKeyFile("/nonexistent/keys").status().code(), absl::StatusCode::kNotFound);
}

TEST(ApiKeysTest, AdmitsOnlyAKnownBearerKey) {
  ApiKeyAuth auth(Keys(), {});
  ASSERT_TRUE(auth.enabled());
  auto ok = auth.Admit("Bearer sk-alice-0123456789");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->key_name(), "alice");
  EXPECT_TRUE(auth.Admit("bearer  sk-anonymous-9876 ").ok());
  for (const char* bad : {"", "sk-alice-0123456789", "Basic c2VjcmV0", "Bearer sk-alice-012345678",
                          "Bearer sk-alice-01234567890", "Bearer "}) {
    SCOPED_TRACE(bad);
    auto refused = auth.Admit(bad);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_EQ(MapError(refused.status()).http_status, 401);
  }
  ApiKeyAuth off({}, {});
  EXPECT_FALSE(off.enabled());
  EXPECT_TRUE(off.Admit("").ok());
}

TEST(ApiKeysTest, RateLimitRefillsOverTime) {
  absl::Time now = absl::FromUnixSeconds(1000);
  ApiKeyAuth auth(Keys(), {.requests_per_minute = 2}, [&] { return now; });
  EXPECT_TRUE(auth.Admit("Bearer sk-alice-0123456789").ok());
  EXPECT_TRUE(auth.Admit("Bearer sk-alice-0123456789").ok());
  auto limited = auth.Admit("Bearer sk-alice-0123456789");
  EXPECT_EQ(limited.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(limited.status().message(), HasSubstr("API key 'alice' is over its rate limit of 2"));
  EXPECT_EQ(RetryAfterSeconds(limited.status()), 30);
  EXPECT_EQ(MapError(limited.status()).http_status, 429);
  // Another key has its own bucket.
  EXPECT_TRUE(auth.Admit("Bearer sk-anonymous-9876").ok());
  now += absl::Seconds(30);
  EXPECT_TRUE(auth.Admit("Bearer sk-alice-0123456789").ok());
  EXPECT_FALSE(auth.Admit("Bearer sk-alice-0123456789").ok());
}

TEST(ApiKeysTest, InFlightCapIsReleasedWithTheLease) {
  ApiKeyAuth auth(Keys(), {.max_in_flight = 2});
  auto a = auth.Admit("Bearer sk-alice-0123456789");
  auto b = auth.Admit("Bearer sk-alice-0123456789");
  ASSERT_TRUE(a.ok() && b.ok());
  auto c = auth.Admit("Bearer sk-alice-0123456789");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("already has 2 requests in flight (limit 2)"));
  EXPECT_TRUE(auth.Admit("Bearer sk-anonymous-9876").ok());  // Released at once.
  { ApiKeyAuth::Lease released = std::move(*a); }
  auto d = auth.Admit("Bearer sk-alice-0123456789");
  EXPECT_TRUE(d.ok()) << d.status();
}

}  // namespace
}  // namespace sllm::gateway
