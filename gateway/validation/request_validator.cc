#include "gateway/validation/request_validator.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gateway/validation/error_mapping.h"
#include "services/common/field_error.h"
#include "services/common/status_macros.h"
#include "services/common/utf8.h"

namespace sllm::gateway {

absl::StatusOr<const ModelInfo*> FindModel(std::string_view name,
                                           absl::Span<const ModelInfo> models) {
  std::vector<std::string> names;
  for (const ModelInfo& m : models) {
    if (m.name == name) return &m;
    names.push_back(m.name);
  }
  return absl::NotFoundError(absl::StrCat("model '", std::string(name),
                                          "' does not exist; served models: ",
                                          names.empty() ? "(none)" : absl::StrJoin(names, ", ")));
}

absl::StatusOr<worker::SamplingParams> ToSamplingParams(const v1::GenerationParams& p) {
  worker::SamplingParams s;
  if (p.has_temperature()) s.temperature = p.temperature();
  if (p.has_top_p()) s.top_p = p.top_p();
  if (p.has_top_k()) s.top_k = p.top_k();
  if (p.has_min_p()) s.min_p = p.min_p();
  if (p.has_repetition_penalty()) s.repetition_penalty = p.repetition_penalty();
  s.presence_penalty = p.presence_penalty();
  s.frequency_penalty = p.frequency_penalty();
  if (p.has_seed()) s.seed = p.seed();
  if (p.top_logprobs() > 0 && !p.logprobs()) {
    return FieldError("top_logprobs", absl::StrCat("top_logprobs needs logprobs=true, got "
                                                   "top_logprobs=", p.top_logprobs()));
  }
  if (p.top_logprobs() > 20) {
    return FieldError("top_logprobs",
                      absl::StrCat("top_logprobs must be in [0, 20], got ", p.top_logprobs()));
  }
  s.logprobs = p.logprobs() ? static_cast<int32_t>(p.top_logprobs()) : -1;
  RETURN_IF_ERROR(worker::ValidateSamplingParams(s));
  return s;
}

absl::Status ValidateStops(const v1::GenerationParams& p, const ModelInfo& model,
                           const GatewayLimits& limits) {
  if (static_cast<size_t>(p.stop_size()) > limits.max_stop_strings) {
    return FieldError("stop", absl::StrCat("stop must have at most ", limits.max_stop_strings,
                                           " strings, got ", p.stop_size()));
  }
  for (int i = 0; i < p.stop_size(); ++i) {
    const std::string& s = p.stop(i);
    const std::string field = absl::StrCat("stop[", i, "]");
    if (s.empty()) return FieldError(field, absl::StrCat(field, " must not be empty"));
    if (s.size() > limits.max_stop_string_bytes) {
      return FieldError(field, absl::StrCat(field, " must be at most ",
                                            limits.max_stop_string_bytes, " bytes, got ",
                                            s.size()));
    }
    RETURN_IF_ERROR(ValidateUtf8(s, field));
  }
  for (int i = 0; i < p.stop_token_ids_size(); ++i) {
    if (p.stop_token_ids(i) >= model.vocab_size) {
      const std::string field = absl::StrCat("stop_token_ids[", i, "]");
      return FieldError(field, absl::StrCat(field, " must be < ", model.vocab_size,
                                            " (the vocabulary size), got ", p.stop_token_ids(i)));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidatePromptText(std::string_view text, std::string_view field,
                                const GatewayLimits& limits) {
  if (text.size() > limits.max_prompt_bytes) {
    return WithField(PayloadTooLargeError(absl::StrCat(std::string(field), " must be at most ",
                                                       limits.max_prompt_bytes, " bytes, got ",
                                                       text.size())),
                     field);
  }
  return ValidateUtf8(text, field);
}

absl::Status ValidatePromptIds(absl::Span<const uint32_t> ids, const ModelInfo& model) {
  if (ids.empty()) return FieldError("prompt", "prompt must not be empty");
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] >= model.vocab_size) {
      return FieldError("prompt", absl::StrCat("prompt ids[", i, "] must be < ", model.vocab_size,
                                               " (the vocabulary size), got ", ids[i]));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateMessages(const google::protobuf::RepeatedPtrField<v1::ChatMessage>& messages,
                              const GatewayLimits& limits) {
  if (messages.empty()) return FieldError("messages", "messages must not be empty");
  if (static_cast<size_t>(messages.size()) > limits.max_messages) {
    return FieldError("messages", absl::StrCat("messages must have at most ", limits.max_messages,
                                               " entries, got ", messages.size()));
  }
  size_t bytes = 0;
  for (int i = 0; i < messages.size(); ++i) {
    const v1::ChatMessage& m = messages[i];
    static const char* kRoles[] = {"system", "developer", "user", "assistant", "tool"};
    bool known = false;
    for (const char* r : kRoles) known = known || m.role() == r;
    if (!known) {
      const std::string field = absl::StrCat("messages[", i, "].role");
      return FieldError(field, absl::StrCat(field, " must be one of system, developer, user, "
                                                   "assistant, tool, got '", m.role(), "'"));
    }
    const std::string content = absl::StrCat("messages[", i, "].content");
    RETURN_IF_ERROR(ValidateUtf8(m.content(), content));
    bytes += m.content().size();
  }
  if (bytes > limits.max_prompt_bytes) {
    return WithField(PayloadTooLargeError(absl::StrCat("messages must total at most ",
                                                       limits.max_prompt_bytes,
                                                       " bytes of content, got ", bytes)),
                     "messages");
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ResolveMaxTokens(std::optional<uint32_t> requested, size_t prompt_tokens,
                                          const ModelInfo& model, const GatewayLimits& limits) {
  if (prompt_tokens >= model.context_length) {
    return FieldError("prompt", absl::StrCat(
        "prompt is ", prompt_tokens, " tokens, which leaves no room to generate in the ",
        model.context_length, "-token context of model '", model.name, "'"));
  }
  const auto room = static_cast<uint32_t>(model.context_length - prompt_tokens);
  if (!requested) return std::min(room, limits.max_tokens_cap);
  if (*requested == 0) return FieldError("max_tokens", "max_tokens must be >= 1, got 0");
  if (*requested > limits.max_tokens_cap) {
    return FieldError("max_tokens", absl::StrCat("max_tokens must be <= ", limits.max_tokens_cap,
                                                 " (the gateway's cap), got ", *requested));
  }
  if (*requested > room) {
    return FieldError("max_tokens", absl::StrCat(
        "max_tokens must be <= ", room, " (context ", model.context_length, " - prompt ",
        prompt_tokens, " tokens), got ", *requested));
  }
  return *requested;
}

}  // namespace sllm::gateway
