// A ChatInput (proto) as the variables transformers' apply_chat_template gives a chat template.
#ifndef SLLM_SERVICES_TOKENIZER_SERVICE_CHAT_INPUT_H_
#define SLLM_SERVICES_TOKENIZER_SERVICE_CHAT_INPUT_H_

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "sllm/v1/common.pb.h"

namespace sllm::tokenizer {

struct ChatVariables {
  // {"messages": [...], "tools": ..., "documents": ...}. Each message has role and content
  // (none when unset), then name, tool_calls (parsed tool_calls_json), tool_call_id,
  // reasoning_content when set, then its extra_json keys (sorted) with their parsed values.
  nlohmann::ordered_json conversation;
  // template_kwargs_json with parsed values; they override every other variable.
  nlohmann::ordered_json kwargs;
};

// INVALID_ARGUMENT names the field whose JSON does not parse.
absl::StatusOr<ChatVariables> ChatInputToVariables(const v1::ChatInput& chat);

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_SERVICE_CHAT_INPUT_H_
