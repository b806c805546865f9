#include "services/worker/sampling/sampler.h"

#include <cmath>
#include <map>

#include "gtest/gtest.h"

namespace sllm::worker {
namespace {

std::vector<float> Logits() { return {1.0f, 2.0f, 0.5f, 3.0f, -1.0f, 2.0f}; }

std::vector<double> Softmax(const std::vector<float>& x, float t) {
  std::vector<double> p(x.size());
  double m = *std::max_element(x.begin(), x.end()) / t, s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += p[i] = std::exp(x[i] / t - m);
  for (double& v : p) v /= s;
  return p;
}

// Draws n samples with a fixed seed and returns the frequency of each token.
std::vector<double> Frequencies(const SamplingParams& params, int n) {
  SequenceSampler s(params, {}, 1234);
  std::vector<double> freq(Logits().size(), 0);
  for (int i = 0; i < n; ++i) {
    auto logits = Logits();
    freq[s.Sample(absl::MakeSpan(logits)).token] += 1.0 / n;
  }
  return freq;
}

TEST(SamplingParamsTest, ErrorsNameFieldLimitAndValue) {
  SamplingParams p;
  p.temperature = NAN;
  EXPECT_EQ(ValidateSamplingParams(p).message(), "temperature must be a finite number >= 0, got nan");
  p = {};
  p.top_p = 0;
  EXPECT_EQ(ValidateSamplingParams(p).message(), "top_p must be in (0, 1], got 0");
  p = {};
  p.min_p = 1.5;
  EXPECT_EQ(ValidateSamplingParams(p).message(), "min_p must be in [0, 1], got 1.5");
  p = {};
  p.logprobs = 21;
  EXPECT_EQ(ValidateSamplingParams(p).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValidateSamplingParams({}).ok());
}

TEST(SamplerTest, GreedyTakesFirstMaximum) {
  SamplingParams p;
  p.temperature = 0;
  SequenceSampler s(p, {}, 0);
  auto logits = Logits();
  EXPECT_EQ(s.Sample(absl::MakeSpan(logits)).token, 3u);
  EXPECT_EQ(Argmax(std::vector<float>{1, 5, 5}), 1u);
}

TEST(SamplerTest, SameSeedSameTokensDifferentSeedDifferentTokens) {
  SamplingParams p;
  p.seed = 42;
  auto run = [&](SamplingParams q) {
    SequenceSampler s(q, {}, 7);
    std::vector<uint32_t> out;
    for (int i = 0; i < 64; ++i) {
      auto logits = Logits();
      out.push_back(s.Sample(absl::MakeSpan(logits)).token);
    }
    return out;
  };
  EXPECT_EQ(run(p), run(p));
  SamplingParams q = p;
  q.seed = 43;
  EXPECT_NE(run(p), run(q));
}

TEST(SamplerTest, TemperatureDrawMatchesSoftmax) {
  SamplingParams p;
  p.temperature = 0.7f;
  const auto freq = Frequencies(p, 200000);
  const auto want = Softmax(Logits(), 0.7f);
  for (size_t i = 0; i < want.size(); ++i) {
    // 200k draws: the binomial standard deviation is below 0.0012 for every token.
    EXPECT_NEAR(freq[i], want[i], 0.006) << "token " << i;
  }
}

TEST(SamplerTest, TopKKeepsOnlyTheKMostLikely) {
  SamplingParams p;
  p.top_k = 2;  // Tokens 3 (3.0) and 1 (2.0, lower id wins the tie with 5).
  const auto freq = Frequencies(p, 100000);
  EXPECT_EQ(freq[0] + freq[2] + freq[4] + freq[5], 0);
  const double want3 = std::exp(3.0) / (std::exp(3.0) + std::exp(2.0));
  EXPECT_NEAR(freq[3], want3, 0.01);
}

TEST(SamplerTest, TopPKeepsTheSmallestNucleus) {
  SamplingParams p;
  p.top_p = 0.5f;  // P(3) = 0.54 alone reaches 0.5.
  const auto freq = Frequencies(p, 1000);
  EXPECT_NEAR(freq[3], 1.0, 1e-9);  // Every draw (sum of 1000 x 1/1000).
  p.top_p = 0.8f;  // 0.54 + 0.20 (token 1) + 0.20 (token 5) >= 0.8: three tokens.
  const auto freq3 = Frequencies(p, 100000);
  EXPECT_EQ(freq3[0] + freq3[2] + freq3[4], 0);
  EXPECT_NEAR(freq3[1], freq3[5], 0.01);
}

TEST(SamplerTest, MinPDropsUnlikelyTokens) {
  SamplingParams p;
  p.min_p = 0.3f;  // Keeps tokens with p >= 0.3 * P(3): ids 3, 1, 5 (ratio e^-1 = 0.37).
  const auto freq = Frequencies(p, 50000);
  EXPECT_EQ(freq[0] + freq[2] + freq[4], 0);
  EXPECT_GT(freq[1], 0.2);
}

TEST(SamplerTest, PenaltiesFollowVllmArithmetic) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  p.frequency_penalty = 0.5f;
  p.presence_penalty = 0.25f;
  const std::vector<uint32_t> prompt = {3};
  SequenceSampler s(p, prompt, 0);
  s.Accept(1);
  s.Accept(1);
  std::vector<float> logits = Logits();
  s.Sample(absl::MakeSpan(logits));
  EXPECT_FLOAT_EQ(logits[3], 1.5f);                      // 3.0 / 2 (seen in prompt).
  EXPECT_FLOAT_EQ(logits[1], 2.0f / 2 - 0.5f * 2 - 0.25f);  // Generated twice.
  EXPECT_FLOAT_EQ(logits[5], 2.0f);
}

TEST(SamplerTest, LogprobsComeFromTheRawDistribution) {
  SamplingParams p;
  p.temperature = 0;
  p.logprobs = 2;
  p.repetition_penalty = 10.0f;
  const std::vector<uint32_t> prompt = {3};
  SequenceSampler s(p, prompt, 0);
  auto logits = Logits();
  const SampleResult r = s.Sample(absl::MakeSpan(logits));
  const auto probs = Softmax(Logits(), 1.0f);
  EXPECT_EQ(r.token, 1u);  // The penalty moved the argmax ...
  EXPECT_NEAR(r.logprob, std::log(probs[1]), 1e-5);  // ... but logprobs are the model's.
  ASSERT_EQ(r.top.size(), 2u);
  EXPECT_EQ(r.top[0].token, 3u);
  EXPECT_NEAR(r.top[0].logprob, std::log(probs[3]), 1e-5);
  EXPECT_EQ(r.top[1].token, 1u);
}

}  // namespace
}  // namespace sllm::worker
