// transformers' apply_chat_template(tokenize=False) around a ChatTemplate: which variables a
// chat template sees, and continue_final_message.
//
// Variables, later ones overriding earlier ones (as transformers' render(messages=..., tools=...,
// documents=..., add_generation_prompt=..., **special_tokens_map, **kwargs) and the reference
// CLI tests/reference/ref_chat_template.js):
//   1. the special tokens of tokenizer_config.json (bos_token, eos_token, ...) as strings, and
//      additional_special_tokens as a list;
//   2. tools: none, documents: none, add_generation_prompt;
//   3. every key of the conversation object other than "messages" (tools, documents, extra
//      template kwargs such as enable_thinking), then messages;
//   4. `overrides` (e.g. the service's template_kwargs).
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_CHAT_PROMPT_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_CHAT_PROMPT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/jinja/template.h"

namespace sllm::tokenizer::jinja {

struct SpecialTokens {
  // (name, text), e.g. ("bos_token", "<|begin_of_text|>").
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> additional;
};

struct ChatPromptOptions {
  // Append the assistant-turn header so the model answers next.
  bool add_generation_prompt = true;
  // Cut the prompt right after the final message's content (trimmed), so the model continues
  // that message. Excludes add_generation_prompt.
  bool continue_final_message = false;
  RenderOptions render;
};

// The render context for `conversation`: {"messages": [...], ...extra keys} (or a bare
// messages array).
absl::StatusOr<nlohmann::ordered_json> BuildChatContext(const SpecialTokens& special_tokens,
                                                        const nlohmann::ordered_json& conversation,
                                                        const nlohmann::ordered_json& overrides,
                                                        bool add_generation_prompt);

// Renders a conversation. Errors: the template's (naming its line) or invalid input.
absl::StatusOr<std::string> RenderChatPrompt(const ChatTemplate& tmpl,
                                             const SpecialTokens& special_tokens,
                                             const nlohmann::ordered_json& conversation,
                                             const nlohmann::ordered_json& overrides,
                                             const ChatPromptOptions& options);

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_CHAT_PROMPT_H_
