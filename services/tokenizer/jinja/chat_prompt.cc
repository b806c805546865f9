#include "services/tokenizer/jinja/chat_prompt.h"

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {
namespace {

using Json = nlohmann::ordered_json;

// JS String(content) of the final message, as the reference's continue_final_message reads it.
absl::StatusOr<std::string> FinalContent(const Json& messages) {
  if (!messages.is_array() || messages.empty()) {
    return absl::InvalidArgumentError("continue_final_message needs at least one message");
  }
  const Json& last = messages.back();
  if (!last.is_object() || !last.contains("content")) return std::string("undefined");
  const Json& content = last["content"];
  if (content.is_string()) return content.get<std::string>();
  if (content.is_array()) {
    for (auto it = content.rbegin(); it != content.rend(); ++it) {
      if (it->is_object() && it->contains("text") && (*it)["text"].is_string()) {
        return (*it)["text"].get<std::string>();
      }
    }
    return absl::InvalidArgumentError("continue_final_message: final message has no text block");
  }
  if (content.is_null()) return std::string("null");
  if (content.is_object()) return std::string("[object Object]");
  return content.dump();
}

}  // namespace

absl::StatusOr<Json> BuildChatContext(const SpecialTokens& special_tokens, const Json& conversation,
                                      const Json& overrides, bool add_generation_prompt) {
  const bool bare = conversation.is_array();
  const Json* messages = bare ? &conversation : nullptr;
  if (conversation.is_object()) {
    auto it = conversation.find("messages");
    if (it != conversation.end()) messages = &*it;
  }
  if (messages == nullptr || !messages->is_array()) {
    return absl::InvalidArgumentError(
        "a conversation must be a messages array or {\"messages\": [...], ...}");
  }
  Json context = Json::object();
  for (const auto& [name, text] : special_tokens.named) context[name] = text;
  if (!special_tokens.additional.empty()) {
    context["additional_special_tokens"] = special_tokens.additional;
  }
  context["tools"] = nullptr;
  context["documents"] = nullptr;
  context["add_generation_prompt"] = add_generation_prompt;
  if (!bare) {
    for (const auto& [key, value] : conversation.items()) {
      if (key != "messages") context[key] = value;
    }
  }
  context["messages"] = *messages;
  if (overrides.is_object()) {
    for (const auto& [key, value] : overrides.items()) context[key] = value;
  }
  return context;
}

absl::StatusOr<std::string> RenderChatPrompt(const ChatTemplate& tmpl,
                                             const SpecialTokens& special_tokens,
                                             const Json& conversation, const Json& overrides,
                                             const ChatPromptOptions& options) {
  if (options.continue_final_message && options.add_generation_prompt) {
    return absl::InvalidArgumentError(
        "continue_final_message and add_generation_prompt cannot both be set");
  }
  ASSIGN_OR_RETURN(Json context, BuildChatContext(special_tokens, conversation, overrides,
                                                  options.add_generation_prompt));
  ASSIGN_OR_RETURN(std::string text, tmpl.Render(context, options.render));
  if (!options.continue_final_message) return text;
  ASSIGN_OR_RETURN(std::string final_content, FinalContent(context["messages"]));
  const absl::string_view needle = JsTrim(final_content);
  const size_t at = text.rfind(needle.data(), std::string::npos, needle.size());
  if (at == std::string::npos) {
    return absl::InvalidArgumentError(
        "continue_final_message: the final message's content is not in the rendered chat");
  }
  text.resize(at + needle.size());
  text.resize(text.size() - TrailingJsSpace(text));
  return text;
}

}  // namespace sllm::tokenizer::jinja
