#include "services/tokenizer/service/chat_input.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/json_nesting.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

using OrderedJson = nlohmann::ordered_json;

absl::StatusOr<OrderedJson> ParseJsonField(const std::string& text, const std::string& field) {
  // The template walks the value recursively: bound its depth first.
  RETURN_IF_ERROR(CheckJsonNesting(text, field));
  OrderedJson j = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(field, " is not valid JSON"));
  return j;
}

}  // namespace

absl::StatusOr<ChatVariables> ChatInputToVariables(const v1::ChatInput& chat) {
  ChatVariables vars{OrderedJson::object(), OrderedJson::object()};
  OrderedJson messages = OrderedJson::array();
  for (int i = 0; i < chat.messages_size(); ++i) {
    const v1::ChatMessage& m = chat.messages(i);
    const std::string where = absl::StrCat("chat.messages[", i, "].");
    OrderedJson msg = OrderedJson::object();
    msg["role"] = m.role();
    if (m.has_content()) {
      // `content` is bytes on the wire so that bad UTF-8 gets this error, not a parse failure.
      RETURN_IF_ERROR(tokenizer::ValidateUtf8(m.content(), where + "content"));
      msg["content"] = m.content();
    } else {
      msg["content"] = nullptr;
    }
    if (m.has_name()) msg["name"] = m.name();
    if (m.has_tool_calls_json()) {
      ASSIGN_OR_RETURN(msg["tool_calls"], ParseJsonField(m.tool_calls_json(), where + "tool_calls_json"));
    }
    if (m.has_tool_call_id()) msg["tool_call_id"] = m.tool_call_id();
    if (m.has_reasoning_content()) msg["reasoning_content"] = m.reasoning_content();
    std::vector<std::pair<std::string, std::string>> extra(m.extra_json().begin(), m.extra_json().end());
    std::sort(extra.begin(), extra.end());
    for (const auto& [key, value] : extra) {
      ASSIGN_OR_RETURN(msg[key], ParseJsonField(value, absl::StrCat(where, "extra_json[", key, "]")));
    }
    messages.push_back(std::move(msg));
  }
  vars.conversation["messages"] = std::move(messages);
  if (chat.has_tools_json()) {
    ASSIGN_OR_RETURN(vars.conversation["tools"], ParseJsonField(chat.tools_json(), "chat.tools_json"));
  }
  if (chat.has_documents_json()) {
    ASSIGN_OR_RETURN(vars.conversation["documents"],
                     ParseJsonField(chat.documents_json(), "chat.documents_json"));
  }
  std::vector<std::pair<std::string, std::string>> kwargs(chat.template_kwargs_json().begin(),
                                                          chat.template_kwargs_json().end());
  std::sort(kwargs.begin(), kwargs.end());
  for (const auto& [key, value] : kwargs) {
    ASSIGN_OR_RETURN(vars.kwargs[key],
                     ParseJsonField(value, absl::StrCat("chat.template_kwargs_json[", key, "]")));
  }
  return vars;
}

}  // namespace sllm::tokenizer
