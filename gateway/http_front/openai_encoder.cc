#include "gateway/http_front/openai_encoder.h"

#include "absl/strings/str_cat.h"
#include "gateway/http_front/openai_request.h"
#include "gateway/validation/error_mapping.h"
#include "nlohmann/json.hpp"

namespace sllm::gateway {
namespace {

using json = nlohmann::ordered_json;

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

json ErrorObject(const absl::Status& status) {
  const ErrorMapping& m = MapError(status);
  const std::string param = ErrorField(status);
  return {{"message", std::string(status.message())},
          {"type", m.openai_type},
          {"param", param.empty() ? json(nullptr) : json(param)},
          {"code", m.openai_code}};
}

json ChatUsage(const v1::Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens()},
          {"completion_tokens", u.completion_tokens()},
          {"total_tokens", u.prompt_tokens() + u.completion_tokens()},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_prompt_tokens()}}}};
}

json ResponsesUsage(const v1::Usage& u) {
  return {{"input_tokens", u.prompt_tokens()},
          {"input_tokens_details", {{"cached_tokens", u.cached_prompt_tokens()}}},
          {"output_tokens", u.completion_tokens()},
          {"output_tokens_details", {{"reasoning_tokens", 0}}},
          {"total_tokens", u.prompt_tokens() + u.completion_tokens()}};
}

std::string Prefix(OpenAiApi api) {
  switch (api) {
    case OpenAiApi::kChatCompletions: return "chatcmpl-";
    case OpenAiApi::kCompletions: return "cmpl-";
    case OpenAiApi::kResponses: return "resp_";
  }
  return "";
}

json OutputText(const std::string& text) {
  return {{"type", "output_text"}, {"text", text}, {"annotations", json::array()}};
}

}  // namespace

std::string OpenAiErrorBody(const absl::Status& status, const char* code) {
  json error = ErrorObject(status);
  if (code != nullptr) error["code"] = code;
  return Dump(json{{"error", error}});
}

OpenAiEncoder::OpenAiEncoder(const OpenAiRequest& request, const std::string& id, int64_t created)
    : api_(request.api),
      id_(Prefix(request.api) + id),
      item_id_("msg_" + id),
      model_(request.pipeline.model),
      created_(created),
      include_usage_(request.include_usage),
      echo_(request.pipeline.params.echo()),
      instructions_(request.api == OpenAiApi::kResponses &&
                            request.pipeline.chat.messages_size() > 0 &&
                            request.pipeline.chat.messages(0).role() == "system"
                        ? request.pipeline.chat.messages(0).content()
                        : "") {}

void OpenAiEncoder::Add(const v1::GenerateStreamResponse& chunk) {
  if (chunk.has_prompt_text()) prompt_text_ = chunk.prompt_text();
  text_ += chunk.text();
  if (chunk.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
    finish_ = chunk.finish_reason();
    usage_ = chunk.usage();
  }
}

std::string OpenAiEncoder::FinishReason() const {
  switch (finish_) {
    case v1::FINISH_REASON_LENGTH: return "length";
    case v1::FINISH_REASON_CANCELLED: return "abort";
    default: return "stop";  // A stop string, a stop token or end of sequence.
  }
}

json OpenAiEncoder::MessageItem() const {
  const bool complete = finish_ != v1::FINISH_REASON_LENGTH;
  return {{"id", item_id_},
          {"type", "message"},
          {"status", complete ? "completed" : "incomplete"},
          {"role", "assistant"},
          {"content", json::array({OutputText(text_)})}};
}

std::string OpenAiEncoder::Body() const { return Dump(Object()); }

json OpenAiEncoder::Object() const {
  json body;
  switch (api_) {
    case OpenAiApi::kChatCompletions:
      body = {{"id", id_},
              {"object", "chat.completion"},
              {"created", created_},
              {"model", model_},
              {"choices", json::array({{{"index", 0},
                                        {"message", {{"role", "assistant"}, {"content", text_}}},
                                        {"logprobs", nullptr},
                                        {"finish_reason", FinishReason()}}})},
              {"usage", ChatUsage(usage_)}};
      break;
    case OpenAiApi::kCompletions:
      body = {{"id", id_},
              {"object", "text_completion"},
              {"created", created_},
              {"model", model_},
              {"choices", json::array({{{"index", 0},
                                        {"text", echo_ ? prompt_text_ + text_ : text_},
                                        {"logprobs", nullptr},
                                        {"finish_reason", FinishReason()}}})},
              {"usage", ChatUsage(usage_)}};
      break;
    case OpenAiApi::kResponses: {
      const bool complete = finish_ != v1::FINISH_REASON_LENGTH;
      body = {{"id", id_},
              {"object", "response"},
              {"created_at", created_},
              {"status", complete ? "completed" : "incomplete"},
              {"error", nullptr},
              {"incomplete_details",
               complete ? json(nullptr) : json{{"reason", "max_output_tokens"}}},
              {"instructions", instructions_.empty() ? json(nullptr) : json(instructions_)},
              {"model", model_},
              {"output", json::array({MessageItem()})},
              {"parallel_tool_calls", false},
              {"tool_choice", "auto"},
              {"tools", json::array()},
              {"text", {{"format", {{"type", "text"}}}}},
              {"usage", ResponsesUsage(usage_)}};
      break;
    }
  }
  return body;
}

std::string OpenAiEncoder::Event(const std::string& type, const std::string& data) {
  if (api_ == OpenAiApi::kResponses) return absl::StrCat("event: ", type, "\ndata: ", data, "\n\n");
  return absl::StrCat("data: ", data, "\n\n");
}

std::string OpenAiEncoder::StreamStart() {
  switch (api_) {
    case OpenAiApi::kChatCompletions: {
      json chunk = {{"id", id_},
                    {"object", "chat.completion.chunk"},
                    {"created", created_},
                    {"model", model_},
                    {"choices", json::array({{{"index", 0},
                                              {"delta", {{"role", "assistant"}, {"content", ""}}},
                                              {"logprobs", nullptr},
                                              {"finish_reason", nullptr}}})}};
      if (include_usage_) chunk["usage"] = nullptr;
      return Event("", Dump(chunk));
    }
    case OpenAiApi::kCompletions:
      return "";
    case OpenAiApi::kResponses: {
      json response = {{"id", id_},         {"object", "response"},
                       {"created_at", created_}, {"status", "in_progress"},
                       {"model", model_},   {"output", json::array()}};
      json item = {{"id", item_id_},
                   {"type", "message"},
                   {"status", "in_progress"},
                   {"role", "assistant"},
                   {"content", json::array()}};
      std::string out = Event("response.created", Dump({{"type", "response.created"},
                                                        {"sequence_number", sequence_++},
                                                        {"response", response}}));
      out += Event("response.in_progress", Dump({{"type", "response.in_progress"},
                                                 {"sequence_number", sequence_++},
                                                 {"response", response}}));
      // The item as it starts: in progress, no content part yet (the next event adds it).
      out += Event("response.output_item.added", Dump({{"type", "response.output_item.added"},
                                                       {"sequence_number", sequence_++},
                                                       {"output_index", 0},
                                                       {"item", item}}));
      out += Event("response.content_part.added",
                   Dump({{"type", "response.content_part.added"},
                         {"sequence_number", sequence_++},
                         {"item_id", item_id_},
                         {"output_index", 0},
                         {"content_index", 0},
                         {"part", OutputText("")}}));
      return out;
    }
  }
  return "";
}

std::string OpenAiEncoder::StreamChunk(const v1::GenerateStreamResponse& chunk) {
  Add(chunk);
  const bool last = chunk.finish_reason() != v1::FINISH_REASON_UNSPECIFIED;
  std::string text = chunk.text();
  if (api_ == OpenAiApi::kCompletions && echo_ && chunk.has_prompt_text()) {
    text = chunk.prompt_text() + text;
  }
  if (text.empty() && !last) return "";
  switch (api_) {
    case OpenAiApi::kChatCompletions:
    case OpenAiApi::kCompletions: {
      const bool chat = api_ == OpenAiApi::kChatCompletions;
      json choice = {{"index", 0}};
      if (chat) {
        choice["delta"] = text.empty() ? json::object() : json{{"content", text}};
      } else {
        choice["text"] = text;
      }
      choice["logprobs"] = nullptr;
      choice["finish_reason"] = last ? json(FinishReason()) : json(nullptr);
      json out = {{"id", id_},
                  {"object", chat ? "chat.completion.chunk" : "text_completion"},
                  {"created", created_},
                  {"model", model_},
                  {"choices", json::array({choice})}};
      if (include_usage_) out["usage"] = nullptr;
      return Event("", Dump(out));
    }
    case OpenAiApi::kResponses:
      if (text.empty()) return "";
      return Event("response.output_text.delta", Dump({{"type", "response.output_text.delta"},
                                                       {"sequence_number", sequence_++},
                                                       {"item_id", item_id_},
                                                       {"output_index", 0},
                                                       {"content_index", 0},
                                                       {"delta", text},
                                                       {"logprobs", json::array()}}));
  }
  return "";
}

std::string OpenAiEncoder::StreamEnd() {
  if (api_ != OpenAiApi::kResponses) {
    std::string out;
    if (include_usage_) {
      const bool chat = api_ == OpenAiApi::kChatCompletions;
      out += Event("", Dump({{"id", id_},
                             {"object", chat ? "chat.completion.chunk" : "text_completion"},
                             {"created", created_},
                             {"model", model_},
                             {"choices", json::array()},
                             {"usage", ChatUsage(usage_)}}));
    }
    return out + "data: [DONE]\n\n";
  }
  const bool complete = finish_ != v1::FINISH_REASON_LENGTH;
  std::string out = Event("response.output_text.done", Dump({{"type", "response.output_text.done"},
                                                             {"sequence_number", sequence_++},
                                                             {"item_id", item_id_},
                                                             {"output_index", 0},
                                                             {"content_index", 0},
                                                             {"text", text_},
                                                             {"logprobs", json::array()}}));
  out += Event("response.content_part.done", Dump({{"type", "response.content_part.done"},
                                                   {"sequence_number", sequence_++},
                                                   {"item_id", item_id_},
                                                   {"output_index", 0},
                                                   {"content_index", 0},
                                                   {"part", OutputText(text_)}}));
  out += Event("response.output_item.done", Dump({{"type", "response.output_item.done"},
                                                  {"sequence_number", sequence_++},
                                                  {"output_index", 0},
                                                  {"item", MessageItem()}}));
  const std::string type = complete ? "response.completed" : "response.incomplete";
  out += Event(type, Dump({{"type", type},
                           {"sequence_number", sequence_++},
                           {"response", Object()}}));
  return out;
}

std::string OpenAiEncoder::StreamError(const absl::Status& status) {
  if (api_ == OpenAiApi::kResponses) {
    json e = ErrorObject(status);
    return Event("error", Dump({{"type", "error"},
                                {"sequence_number", sequence_++},
                                {"code", e["code"]},
                                {"message", e["message"]},
                                {"param", e["param"]}}));
  }
  return Event("", Dump(json{{"error", ErrorObject(status)}}));
}

}  // namespace sllm::gateway
