#include "services/worker/sampling/sampling_params.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/common/field_error.h"

namespace sllm::worker {
namespace {

absl::Status Invalid(const char* field, const char* limit, double value) {
  return FieldError(field, absl::StrCat(field, " must be ", limit, ", got ", value));
}

}  // namespace

absl::Status ValidateSamplingParams(const SamplingParams& p) {
  if (!std::isfinite(p.temperature) || p.temperature < 0) {
    return Invalid("temperature", "a finite number >= 0", p.temperature);
  }
  if (p.top_k < -1) return Invalid("top_k", ">= 0 (0 or -1 disables it)", p.top_k);
  if (!std::isfinite(p.top_p) || p.top_p <= 0 || p.top_p > 1) {
    return Invalid("top_p", "in (0, 1]", p.top_p);
  }
  if (!std::isfinite(p.min_p) || p.min_p < 0 || p.min_p > 1) {
    return Invalid("min_p", "in [0, 1]", p.min_p);
  }
  if (!std::isfinite(p.repetition_penalty) || p.repetition_penalty <= 0) {
    return Invalid("repetition_penalty", "a finite number > 0", p.repetition_penalty);
  }
  if (!std::isfinite(p.presence_penalty) || std::fabs(p.presence_penalty) > 2) {
    return Invalid("presence_penalty", "in [-2, 2]", p.presence_penalty);
  }
  if (!std::isfinite(p.frequency_penalty) || std::fabs(p.frequency_penalty) > 2) {
    return Invalid("frequency_penalty", "in [-2, 2]", p.frequency_penalty);
  }
  if (p.logprobs < -1 || p.logprobs > 20) return Invalid("logprobs", "in [0, 20]", p.logprobs);
  return absl::OkStatus();
}

}  // namespace sllm::worker
