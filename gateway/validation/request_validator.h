// Validation at the front door: one rule, one error, each naming the field, the limit and the
// value (like TGI's validation.rs). Shared by the gRPC and HTTP fronts.
#ifndef SLLM_GATEWAY_VALIDATION_REQUEST_VALIDATOR_H_
#define SLLM_GATEWAY_VALIDATION_REQUEST_VALIDATOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "services/worker/sampling/sampling_params.h"
#include "sllm/v1/generation.pb.h"

namespace sllm::gateway {

// Limits the gateway enforces on every request.
struct GatewayLimits {
  // Largest max_tokens a request may ask for.
  uint32_t max_tokens_cap = 8192;
  // Most stop strings per request, and the longest one in bytes.
  size_t max_stop_strings = 16;
  size_t max_stop_string_bytes = 256;
  // Largest prompt (text, or all message contents together) in bytes.
  size_t max_prompt_bytes = 4 << 20;
  // Most messages in a conversation.
  size_t max_messages = 1024;
};

// What the gateway knows of a served model.
struct ModelInfo {
  std::string name;
  uint32_t context_length = 0;
  uint32_t vocab_size = 0;
};

// The served model called `name`; NOT_FOUND lists the served models.
absl::StatusOr<const ModelInfo*> FindModel(std::string_view name,
                                           absl::Span<const ModelInfo> models);

// Sampling options for the worker; INVALID_ARGUMENT for the first bad field.
absl::StatusOr<worker::SamplingParams> ToSamplingParams(const v1::GenerationParams& params);

// Stop strings and stop token ids.
absl::Status ValidateStops(const v1::GenerationParams& params, const ModelInfo& model,
                           const GatewayLimits& limits);

// A text prompt: valid UTF-8 and within the size limit (413 beyond it).
absl::Status ValidatePromptText(std::string_view text, std::string_view field,
                                const GatewayLimits& limits);

// Prompt ids: non-empty and inside the model's vocabulary.
absl::Status ValidatePromptIds(absl::Span<const uint32_t> ids, const ModelInfo& model);

// A conversation: non-empty, known roles, valid UTF-8, within the limits.
absl::Status ValidateMessages(const google::protobuf::RepeatedPtrField<v1::ChatMessage>& messages,
                              const GatewayLimits& limits);

// The number of tokens to generate: `requested` (if set) checked against the cap and the
// room the prompt leaves in the context; unset means all the room, up to the cap.
absl::StatusOr<uint32_t> ResolveMaxTokens(std::optional<uint32_t> requested, size_t prompt_tokens,
                                          const ModelInfo& model, const GatewayLimits& limits);

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_VALIDATION_REQUEST_VALIDATOR_H_
