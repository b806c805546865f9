#include "services/worker/sampling/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sllm::worker {
namespace {

// Most-likely-first order; equal values by lower id, so draws are reproducible.
bool Before(const std::pair<float, uint32_t>& a, const std::pair<float, uint32_t>& b) {
  return a.first != b.first ? a.first > b.first : a.second < b.second;
}

double LogSumExp(absl::Span<const float> x) {
  float m = -std::numeric_limits<float>::infinity();
  for (float v : x) m = std::max(m, v);
  if (!std::isfinite(m)) return m;
  double s = 0;
  for (float v : x) s += std::exp(static_cast<double>(v - m));
  return m + std::log(s);
}

}  // namespace

uint32_t Argmax(absl::Span<const float> logits) {
  uint32_t best = 0;
  for (uint32_t i = 1; i < logits.size(); ++i) {
    if (logits[i] > logits[best]) best = i;
  }
  return best;
}

SequenceSampler::SequenceSampler(const SamplingParams& params, absl::Span<const uint32_t> prompt,
                                 uint64_t seed)
    : params_(params), rng_(params.seed.value_or(seed)) {
  if (params_.repetition_penalty != 1.0f) seen_.insert(prompt.begin(), prompt.end());
}

void SequenceSampler::Accept(uint32_t token) {
  if (params_.repetition_penalty != 1.0f) seen_.insert(token);
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f) ++generated_[token];
}

void SequenceSampler::ApplyPenalties(absl::Span<float> logits) const {
  const float rp = params_.repetition_penalty;
  for (uint32_t t : seen_) {
    if (t >= logits.size()) continue;
    logits[t] = logits[t] > 0 ? logits[t] / rp : logits[t] * rp;
  }
  for (const auto& [t, count] : generated_) {
    if (t >= logits.size()) continue;
    logits[t] -= params_.frequency_penalty * count + params_.presence_penalty;
  }
}

double SequenceSampler::Uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;  // [0, 1) with 53 random bits.
}

uint32_t SequenceSampler::Draw(absl::Span<const float> logits) {
  const float inv_t = 1.0f / params_.temperature;
  const uint32_t vocab = static_cast<uint32_t>(logits.size());
  const bool filter = params_.top_k > 0 || params_.top_p < 1.0f || params_.min_p > 0.0f;
  if (!filter) {
    // Plain softmax draw over the whole vocabulary, in id order: no sort needed.
    float m = -std::numeric_limits<float>::infinity();
    for (float v : logits) m = std::max(m, v * inv_t);
    double total = 0;
    for (float v : logits) total += std::exp(static_cast<double>(v * inv_t - m));
    const double target = Uniform() * total;
    double acc = 0;
    for (uint32_t i = 0; i < vocab; ++i) {
      acc += std::exp(static_cast<double>(logits[i] * inv_t - m));
      if (acc > target) return i;
    }
    return Argmax(logits);  // Rounding left target unreached: the mode is the safe answer.
  }
  // Candidates, most likely first: the top-k, or the whole vocabulary.
  scratch_.clear();
  scratch_.reserve(vocab);
  for (uint32_t i = 0; i < vocab; ++i) scratch_.emplace_back(logits[i] * inv_t, i);
  size_t keep = vocab;
  if (params_.top_k > 0 && static_cast<uint32_t>(params_.top_k) < vocab) keep = params_.top_k;
  std::partial_sort(scratch_.begin(), scratch_.begin() + keep, scratch_.end(), Before);
  // Probabilities over the whole (penalized, tempered) distribution restricted to top-k.
  const float m = scratch_[0].first;
  double total = 0;
  std::vector<double> probs(keep);
  for (size_t i = 0; i < keep; ++i) {
    probs[i] = std::exp(static_cast<double>(scratch_[i].first - m));
    total += probs[i];
  }
  // top-p: the smallest prefix whose mass reaches top_p (at least one token).
  size_t n = keep;
  if (params_.top_p < 1.0f) {
    double acc = 0;
    for (size_t i = 0; i < keep; ++i) {
      acc += probs[i] / total;
      if (acc >= params_.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  // min-p: drop tokens less likely than min_p times the most likely one.
  if (params_.min_p > 0.0f) {
    const double floor = params_.min_p * probs[0];
    size_t k = 1;
    while (k < n && probs[k] >= floor) ++k;
    n = k;
  }
  double kept = 0;
  for (size_t i = 0; i < n; ++i) kept += probs[i];
  const double target = Uniform() * kept;
  double acc = 0;
  for (size_t i = 0; i < n; ++i) {
    acc += probs[i];
    if (acc > target) return scratch_[i].second;
  }
  return scratch_[0].second;
}

SampleResult SequenceSampler::Sample(absl::Span<float> logits) {
  SampleResult result;
  std::vector<float> raw;
  if (params_.logprobs >= 0) raw.assign(logits.begin(), logits.end());
  ApplyPenalties(logits);
  result.token = params_.greedy() ? Argmax(logits) : Draw(logits);
  if (params_.logprobs >= 0) {
    const double lse = LogSumExp(raw);
    result.logprob = static_cast<float>(raw[result.token] - lse);
    const size_t n = std::min<size_t>(params_.logprobs, raw.size());
    std::vector<std::pair<float, uint32_t>> top;
    top.reserve(raw.size());
    for (uint32_t i = 0; i < raw.size(); ++i) top.emplace_back(raw[i], i);
    std::partial_sort(top.begin(), top.begin() + n, top.end(), Before);
    for (size_t i = 0; i < n; ++i) {
      result.top.push_back({top[i].second, static_cast<float>(top[i].first - lse)});
    }
  }
  return result;
}

}  // namespace sllm::worker
