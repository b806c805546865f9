// OpenAI-compatible request bodies -> pipeline requests: /v1/chat/completions,
// /v1/completions and /v1/responses, plus the vLLM extensions users rely on (top_k, min_p,
// repetition_penalty, ignore_eos, stop_token_ids, ...). Every error is INVALID_ARGUMENT naming
// the field (also as the OpenAI error's `param`), what it must be and what it was. Sampling
// ranges and limits are checked later by the shared validator (request_validator.h).
#ifndef SLLM_GATEWAY_HTTP_FRONT_OPENAI_REQUEST_H_
#define SLLM_GATEWAY_HTTP_FRONT_OPENAI_REQUEST_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "gateway/core/pipeline.h"
#include "services/common/field_error.h"  // FieldError, ErrorField: the error's `param`.

namespace sllm::gateway {

enum class OpenAiApi { kChatCompletions, kCompletions, kResponses };

struct OpenAiRequest {
  OpenAiApi api = OpenAiApi::kChatCompletions;
  PipelineRequest pipeline;  // Model, prompt or conversation, generation parameters.
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Parses a JSON body for `api`.
absl::StatusOr<OpenAiRequest> ParseOpenAiRequest(OpenAiApi api, std::string_view body);

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_HTTP_FRONT_OPENAI_REQUEST_H_
