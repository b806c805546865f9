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
  // The maximum over 16 independent lanes (a loop the compiler vectorizes; one dependent
  // compare per element took 0.5 ms on a 128k vocabulary), then its first index.
  constexpr size_t kLanes = 16;
  const size_t n = logits.size();
  float lanes[kLanes];
  std::fill(lanes, lanes + kLanes, -std::numeric_limits<float>::infinity());
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      lanes[j] = lanes[j] < logits[i + j] ? logits[i + j] : lanes[j];
    }
  }
  float best = *std::max_element(lanes, lanes + kLanes);
  for (; i < n; ++i) best = best < logits[i] ? logits[i] : best;
  for (uint32_t k = 0; k < n; ++k) {
    if (logits[k] == best) return k;
  }
  return 0;  // Every value is NaN.
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
  // Candidates, most likely first: the top-k, or the whole vocabulary. Only as long a prefix
  // as top-p and min-p need is sorted (a full sort of a 128k vocabulary took 20 ms per token);
  // since Before is a total order, every prefix is the same as in a full sort.
  scratch_.clear();
  scratch_.reserve(vocab);
  float m = -std::numeric_limits<float>::infinity();
  for (uint32_t i = 0; i < vocab; ++i) {
    scratch_.emplace_back(logits[i] * inv_t, i);
    m = std::max(m, scratch_.back().first);
  }
  size_t keep = vocab;
  if (params_.top_k > 0 && static_cast<uint32_t>(params_.top_k) < vocab) keep = params_.top_k;
  size_t sorted = 0;
  auto sort_prefix = [&](size_t want) {
    want = std::min(want, keep);
    if (want > sorted) {
      std::partial_sort(scratch_.begin() + sorted, scratch_.begin() + want, scratch_.end(),
                        Before);
      sorted = want;
    }
  };
  sort_prefix(keep < 256 ? keep : 64);
  // Probabilities over the whole (penalized, tempered) distribution restricted to top-k.
  double total = 0;
  if (keep == vocab) {
    for (const auto& [l, id] : scratch_) total += std::exp(static_cast<double>(l - m));
  } else {
    for (size_t i = 0; i < keep; ++i) total += std::exp(static_cast<double>(scratch_[i].first - m));
  }
  std::vector<double>& probs = probs_;
  probs.clear();
  // probs[i] of the i-th most likely candidate, sorting further as needed.
  auto prob = [&](size_t i) {
    if (i >= sorted) sort_prefix(std::max(i + 1, sorted * 4));
    while (probs.size() <= i) {
      probs.push_back(std::exp(static_cast<double>(scratch_[probs.size()].first - m)));
    }
    return probs[i];
  };
  // top-p: the smallest prefix whose mass reaches top_p (at least one token).
  size_t n = keep;
  if (params_.top_p < 1.0f) {
    double acc = 0;
    for (size_t i = 0; i < keep; ++i) {
      acc += prob(i) / total;
      if (acc >= params_.top_p) {
        n = i + 1;
        break;
      }
    }
  }
  // min-p: drop tokens less likely than min_p times the most likely one.
  if (params_.min_p > 0.0f) {
    const double floor = params_.min_p * prob(0);
    size_t k = 1;
    while (k < n && prob(k) >= floor) ++k;
    n = k;
  }
  double kept = 0;
  for (size_t i = 0; i < n; ++i) kept += prob(i);
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
