#include "gateway/http_front/openai_request.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/absl_view.h"
#include "services/common/json_nesting.h"
#include "services/common/status_macros.h"

namespace sllm::gateway {
namespace {

using json = nlohmann::json;

// A JSON value for an error message: ASCII, at most ~80 characters.
std::string Show(const json& v) {
  std::string s = v.dump(-1, ' ', /*ensure_ascii=*/true);
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

absl::Status WrongType(const std::string& field, std::string_view want, const json& got) {
  return FieldError(field, absl::StrCat(field, " must be ", AbslView(want), ", got ", Show(got)));
}

// Typed access to the members of one JSON object; `null` counts as absent, as in OpenAI's API.
class Fields {
 public:
  Fields(const json& object, std::string prefix) : object_(object), prefix_(std::move(prefix)) {}

  std::string Path(std::string_view name) const { return absl::StrCat(prefix_, AbslView(name)); }

  const json* Find(std::string_view name) const {
    auto it = object_.find(name);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  absl::StatusOr<std::optional<double>> Number(std::string_view name) const {
    const json* v = Find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number()) return WrongType(Path(name), "a number", *v);
    return v->get<double>();
  }

  absl::StatusOr<std::optional<float>> Float(std::string_view name) const {
    ASSIGN_OR_RETURN(std::optional<double> d, Number(name));
    if (!d) return std::nullopt;
    if (std::fabs(*d) > std::numeric_limits<float>::max()) {
      return FieldError(Path(name), absl::StrCat(Path(name), " must be within the range of a "
                                                 "32-bit float, got ", Show(*Find(name))));
    }
    return static_cast<float>(*d);
  }

  absl::StatusOr<std::optional<int64_t>> Integer(std::string_view name, int64_t min,
                                                 int64_t max) const {
    const json* v = Find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_number_integer()) return WrongType(Path(name), "an integer", *v);
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(max)) {
      return FieldError(Path(name), absl::StrCat(Path(name), " must be <= ", max, ", got ",
                                                 Show(*v)));
    }
    const int64_t i = v->get<int64_t>();
    if (i < min || i > max) {
      return FieldError(Path(name), absl::StrCat(Path(name), " must be between ", min, " and ",
                                                 max, ", got ", i));
    }
    return i;
  }

  absl::StatusOr<std::optional<bool>> Bool(std::string_view name) const {
    const json* v = Find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) return WrongType(Path(name), "true or false", *v);
    return v->get<bool>();
  }

  absl::StatusOr<std::optional<std::string>> String(std::string_view name) const {
    const json* v = Find(name);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) return WrongType(Path(name), "a string", *v);
    return v->get<std::string>();
  }

 private:
  const json& object_;
  const std::string prefix_;
};

constexpr int64_t kMaxU32 = std::numeric_limits<uint32_t>::max();

// Sampling and stopping fields shared by the three APIs.
absl::Status ReadGenerationParams(const Fields& f, v1::GenerationParams* p) {
  ASSIGN_OR_RETURN(auto temperature, f.Float("temperature"));
  if (temperature) p->set_temperature(*temperature);
  ASSIGN_OR_RETURN(auto top_p, f.Float("top_p"));
  if (top_p) p->set_top_p(*top_p);
  ASSIGN_OR_RETURN(auto top_k, f.Integer("top_k", -1, std::numeric_limits<int32_t>::max()));
  if (top_k) p->set_top_k(static_cast<int32_t>(*top_k));
  ASSIGN_OR_RETURN(auto min_p, f.Float("min_p"));
  if (min_p) p->set_min_p(*min_p);
  ASSIGN_OR_RETURN(auto repetition, f.Float("repetition_penalty"));
  if (repetition) p->set_repetition_penalty(*repetition);
  ASSIGN_OR_RETURN(auto presence, f.Float("presence_penalty"));
  if (presence) p->set_presence_penalty(*presence);
  ASSIGN_OR_RETURN(auto frequency, f.Float("frequency_penalty"));
  if (frequency) p->set_frequency_penalty(*frequency);
  // Any 64-bit integer, as in OpenAI's API and vLLM; a negative one is taken modulo 2^64.
  ASSIGN_OR_RETURN(auto seed, f.Integer("seed", std::numeric_limits<int64_t>::min(),
                                        std::numeric_limits<int64_t>::max()));
  if (seed) p->set_seed(static_cast<uint64_t>(*seed));
  ASSIGN_OR_RETURN(auto min_tokens, f.Integer("min_tokens", 0, kMaxU32));
  if (min_tokens) p->set_min_tokens(static_cast<uint32_t>(*min_tokens));
  ASSIGN_OR_RETURN(auto ignore_eos, f.Bool("ignore_eos"));
  if (ignore_eos) p->set_ignore_eos(*ignore_eos);
  ASSIGN_OR_RETURN(auto skip_special, f.Bool("skip_special_tokens"));
  if (skip_special) p->set_skip_special_tokens(*skip_special);
  ASSIGN_OR_RETURN(auto include_stop, f.Bool("include_stop_str_in_output"));
  if (include_stop) p->set_include_stop_str_in_output(*include_stop);

  if (const json* stop = f.Find("stop")) {
    if (stop->is_string()) {
      p->add_stop(stop->get<std::string>());
    } else if (stop->is_array()) {
      for (size_t i = 0; i < stop->size(); ++i) {
        if (!(*stop)[i].is_string()) {
          return WrongType(absl::StrCat(f.Path("stop"), "[", i, "]"), "a string", (*stop)[i]);
        }
        p->add_stop((*stop)[i].get<std::string>());
      }
    } else {
      return WrongType(f.Path("stop"), "a string or an array of strings", *stop);
    }
  }
  if (const json* ids = f.Find("stop_token_ids")) {
    if (!ids->is_array()) return WrongType(f.Path("stop_token_ids"), "an array of token ids", *ids);
    for (size_t i = 0; i < ids->size(); ++i) {
      const json& id = (*ids)[i];
      if (!id.is_number_unsigned() || id.get<uint64_t>() > static_cast<uint64_t>(kMaxU32)) {
        return WrongType(absl::StrCat(f.Path("stop_token_ids"), "[", i, "]"), "a token id", id);
      }
      p->add_stop_token_ids(id.get<uint32_t>());
    }
  }
  ASSIGN_OR_RETURN(auto n, f.Integer("n", 1, 1 << 20));
  if (n && *n != 1) return FieldError("n", absl::StrCat("n must be 1 (one choice per request), got ", *n));
  ASSIGN_OR_RETURN(auto best_of, f.Integer("best_of", 1, 1 << 20));
  if (best_of && *best_of != 1) {
    return FieldError("best_of", absl::StrCat("best_of must be 1, got ", *best_of));
  }
  if (const json* bias = f.Find("logit_bias"); bias != nullptr && !bias->empty()) {
    return FieldError("logit_bias", "logit_bias is not supported; send an empty object or omit it");
  }
  ASSIGN_OR_RETURN(auto user, f.String("user"));  // Accepted and unused, as in vLLM.
  (void)user;
  return absl::OkStatus();
}

absl::Status ReadMaxTokens(const Fields& f, std::string_view field, v1::GenerationParams* p) {
  ASSIGN_OR_RETURN(auto max, f.Integer(field, 0, kMaxU32));
  if (max) p->set_max_tokens(static_cast<uint32_t>(*max));
  return absl::OkStatus();
}

absl::Status ReadStream(const Fields& f, OpenAiRequest* r) {
  ASSIGN_OR_RETURN(auto stream, f.Bool("stream"));
  r->stream = stream.value_or(false);
  if (const json* options = f.Find("stream_options")) {
    if (!options->is_object()) return WrongType("stream_options", "an object", *options);
    ASSIGN_OR_RETURN(auto usage, Fields(*options, "stream_options.").Bool("include_usage"));
    r->include_usage = usage.value_or(false);
  }
  return absl::OkStatus();
}

absl::Status RejectLogprobs(const Fields& f) {
  const json* v = f.Find("logprobs");
  if (v == nullptr || (v->is_boolean() && !v->get<bool>())) return absl::OkStatus();
  return FieldError("logprobs",
                    "logprobs are not served over HTTP yet; the gRPC API (sllm.v1.Generation) "
                    "returns them");
}

// Message content: a string, or an array of text parts ({"type": "text", "text": ...}; the
// Responses API spells them input_text / output_text).
absl::Status ReadContent(const json& content, const std::string& field, v1::ChatMessage* m) {
  if (content.is_string()) {
    m->set_content(content.get<std::string>());
    return absl::OkStatus();
  }
  if (!content.is_array()) return WrongType(field, "a string or an array of content parts", content);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string where = absl::StrCat(field, "[", i, "]");
    const json& part = content[i];
    if (!part.is_object()) return WrongType(where, "a content part object", part);
    Fields pf(part, where + ".");
    ASSIGN_OR_RETURN(auto type, pf.String("type"));
    if (!type || (*type != "text" && *type != "input_text" && *type != "output_text")) {
      return FieldError(pf.Path("type"),
                        absl::StrCat(pf.Path("type"), " must be \"text\" (this server serves text "
                                     "models), got ", type ? Show(*type) : "nothing"));
    }
    ASSIGN_OR_RETURN(auto part_text, pf.String("text"));
    if (!part_text) return FieldError(pf.Path("text"), pf.Path("text") + " is required");
    text += *part_text;
  }
  m->set_content(std::move(text));
  return absl::OkStatus();
}

absl::StatusOr<v1::ChatMessage> ReadMessage(const json& item, const std::string& where) {
  if (!item.is_object()) return WrongType(where, "a message object", item);
  Fields mf(item, where + ".");
  v1::ChatMessage m;
  ASSIGN_OR_RETURN(auto role, mf.String("role"));
  if (!role) return FieldError(mf.Path("role"), mf.Path("role") + " is required");
  m.set_role(*role);
  if (const json* content = mf.Find("content")) {
    RETURN_IF_ERROR(ReadContent(*content, mf.Path("content"), &m));
  }
  ASSIGN_OR_RETURN(auto name, mf.String("name"));
  if (name) m.set_name(*name);
  if (const json* calls = mf.Find("tool_calls")) {
    if (!calls->is_array()) return WrongType(mf.Path("tool_calls"), "an array", *calls);
    m.set_tool_calls_json(calls->dump());
  }
  ASSIGN_OR_RETURN(auto call_id, mf.String("tool_call_id"));
  if (call_id) m.set_tool_call_id(*call_id);
  ASSIGN_OR_RETURN(auto reasoning, mf.String("reasoning_content"));
  if (reasoning) m.set_reasoning_content(*reasoning);
  return m;
}

// Chat-template options: tools, chat_template_kwargs, add_generation_prompt, ...
absl::Status ReadTemplateOptions(const Fields& f, v1::ChatInput* chat) {
  ASSIGN_OR_RETURN(auto continue_final, f.Bool("continue_final_message"));
  chat->set_continue_final_message(continue_final.value_or(false));
  ASSIGN_OR_RETURN(auto add_prompt, f.Bool("add_generation_prompt"));
  chat->set_add_generation_prompt(add_prompt.value_or(!chat->continue_final_message()));
  if (const json* tools = f.Find("tools")) {
    if (!tools->is_array()) return WrongType("tools", "an array", *tools);
    if (!tools->empty()) chat->set_tools_json(tools->dump());
  }
  if (const json* choice = f.Find("tool_choice")) {
    if (!choice->is_string() || (*choice != "auto" && *choice != "none")) {
      return FieldError("tool_choice", absl::StrCat("tool_choice must be \"auto\" or \"none\" "
                                                    "(forced tool calls are not supported), got ",
                                                    Show(*choice)));
    }
  }
  if (const json* kwargs = f.Find("chat_template_kwargs")) {
    if (!kwargs->is_object()) return WrongType("chat_template_kwargs", "an object", *kwargs);
    for (const auto& [k, v] : kwargs->items()) (*chat->mutable_template_kwargs_json())[k] = v.dump();
  }
  if (const json* format = f.Find("response_format")) {
    if (!format->is_object() || format->value("type", json()) != "text") {
      return FieldError("response_format",
                        absl::StrCat("response_format must be {\"type\": \"text\"} (structured "
                                     "output is not supported), got ", Show(*format)));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseChat(const Fields& f, OpenAiRequest* r) {
  const json* messages = f.Find("messages");
  if (messages == nullptr) return FieldError("messages", "messages is required");
  if (!messages->is_array()) return WrongType("messages", "an array of messages", *messages);
  r->pipeline.kind = PipelineRequest::Kind::kChat;
  for (size_t i = 0; i < messages->size(); ++i) {
    ASSIGN_OR_RETURN(*r->pipeline.chat.add_messages(),
                     ReadMessage((*messages)[i], absl::StrCat("messages[", i, "]")));
  }
  RETURN_IF_ERROR(ReadTemplateOptions(f, &r->pipeline.chat));
  RETURN_IF_ERROR(RejectLogprobs(f));
  // max_completion_tokens replaces max_tokens in OpenAI's current API; both are accepted.
  if (f.Find("max_completion_tokens") != nullptr) {
    return ReadMaxTokens(f, "max_completion_tokens", &r->pipeline.params);
  }
  return ReadMaxTokens(f, "max_tokens", &r->pipeline.params);
}

absl::Status ParseCompletion(const Fields& f, OpenAiRequest* r) {
  const json* prompt = f.Find("prompt");
  if (prompt == nullptr) return FieldError("prompt", "prompt is required");
  // One prompt per request: a string, one string in an array, or token ids.
  const json* one = prompt;
  if (prompt->is_array() && prompt->size() == 1 && !(*prompt)[0].is_number()) one = &(*prompt)[0];
  if (one->is_string()) {
    r->pipeline.kind = PipelineRequest::Kind::kText;
    r->pipeline.text = one->get<std::string>();
  } else if (one->is_array() && !one->empty() &&
             std::all_of(one->begin(), one->end(), [](const json& v) {
               return v.is_number_unsigned() && v.get<uint64_t>() <= kMaxU32;
             })) {
    r->pipeline.kind = PipelineRequest::Kind::kIds;
    for (const json& id : *one) r->pipeline.ids.push_back(id.get<uint32_t>());
  } else if (prompt->is_array() && prompt->size() > 1 && (*prompt)[0].is_string()) {
    return FieldError("prompt", absl::StrCat("prompt must be a single prompt (send one request "
                                             "per prompt), got ", prompt->size(), " prompts"));
  } else {
    return WrongType("prompt", "a string or an array of token ids", *prompt);
  }
  if (const json* suffix = f.Find("suffix"); suffix != nullptr && *suffix != "") {
    return FieldError("suffix", "suffix (fill-in-the-middle) is not supported");
  }
  RETURN_IF_ERROR(RejectLogprobs(f));
  ASSIGN_OR_RETURN(auto echo, f.Bool("echo"));
  if (echo) r->pipeline.params.set_echo(*echo);
  RETURN_IF_ERROR(ReadMaxTokens(f, "max_tokens", &r->pipeline.params));
  // OpenAI's legacy completions default to 16 tokens.
  if (!r->pipeline.params.has_max_tokens()) r->pipeline.params.set_max_tokens(16);
  return absl::OkStatus();
}

absl::Status ParseResponses(const Fields& f, OpenAiRequest* r) {
  r->pipeline.kind = PipelineRequest::Kind::kChat;
  v1::ChatInput& chat = r->pipeline.chat;
  ASSIGN_OR_RETURN(auto instructions, f.String("instructions"));
  if (instructions) {
    v1::ChatMessage* system = chat.add_messages();
    system->set_role("system");
    system->set_content(*instructions);
  }
  const json* input = f.Find("input");
  if (input == nullptr) return FieldError("input", "input is required");
  if (input->is_string()) {
    v1::ChatMessage* user = chat.add_messages();
    user->set_role("user");
    user->set_content(input->get<std::string>());
  } else if (input->is_array()) {
    for (size_t i = 0; i < input->size(); ++i) {
      const std::string where = absl::StrCat("input[", i, "]");
      const json& item = (*input)[i];
      if (item.is_object() && item.contains("type") && item["type"] != "message") {
        return FieldError(where + ".type",
                          absl::StrCat(where, ".type must be \"message\", got ",
                                       Show(item["type"])));
      }
      ASSIGN_OR_RETURN(*chat.add_messages(), ReadMessage(item, where));
    }
  } else {
    return WrongType("input", "a string or an array of input items", *input);
  }
  chat.set_add_generation_prompt(true);
  if (f.Find("previous_response_id") != nullptr) {
    return FieldError("previous_response_id",
                      "previous_response_id is not supported (responses are not stored); send "
                      "the conversation in input");
  }
  if (const json* tools = f.Find("tools"); tools != nullptr && !tools->empty()) {
    return FieldError("tools", "tools are not supported by /v1/responses; use /v1/chat/completions");
  }
  if (const json* text = f.Find("text")) {
    const json* format = text->is_object() ? Fields(*text, "text.").Find("format") : nullptr;
    if (format != nullptr && (!format->is_object() || format->value("type", json()) != "text")) {
      return FieldError("text.format", absl::StrCat("text.format must be {\"type\": \"text\"}, got ",
                                                    Show(*format)));
    }
  }
  return ReadMaxTokens(f, "max_output_tokens", &r->pipeline.params);
}

absl::StatusOr<OpenAiRequest> ParseObject(OpenAiApi api, const json& j);

// A parse error quotes what the parser read last ("; last read: '...'"): a whole string, which
// may be megabytes of the client's prompt. Keeps its last 40 bytes.
std::string ShortParseError(std::string what) {
  constexpr std::string_view kLastRead = "; last read: '";
  constexpr size_t kKeep = 40;
  const size_t at = what.find(kLastRead);
  const size_t close = what.rfind('\'');
  if (at == std::string::npos || close == std::string::npos) return what;
  const size_t start = at + kLastRead.size();
  if (close < start || close - start <= kKeep + 3) return what;
  size_t keep_from = close - kKeep;
  // Not in the middle of a UTF-8 character.
  while (keep_from < close && (static_cast<unsigned char>(what[keep_from]) & 0xC0) == 0x80) {
    ++keep_from;
  }
  return absl::StrCat(what.substr(0, start), "...", what.substr(keep_from));
}

}  // namespace

absl::StatusOr<OpenAiRequest> ParseOpenAiRequest(OpenAiApi api, std::string_view body) {
  RETURN_IF_ERROR(CheckJsonNesting(body, "the request body"));
  json j;
  try {
    j = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    // parse_error, or out_of_range for a number beyond a double ("1e999"): never a crash.
    return absl::InvalidArgumentError(
        absl::StrCat("the request body is not valid JSON: ", ShortParseError(e.what())));
  }
  if (!j.is_object()) return absl::InvalidArgumentError("the request body must be a JSON object");
  try {
    return ParseObject(api, j);
  } catch (const json::exception& e) {
    // A value of a type no check above foresaw: a 400, never a crash.
    return absl::InvalidArgumentError(absl::StrCat("the request body has a value of the wrong "
                                                   "type: ", e.what()));
  }
}

namespace {

absl::StatusOr<OpenAiRequest> ParseObject(OpenAiApi api, const json& j) {
  OpenAiRequest r;
  r.api = api;
  Fields f(j, "");
  ASSIGN_OR_RETURN(auto model, f.String("model"));
  if (!model || model->empty()) return FieldError("model", "model is required");
  r.pipeline.model = *model;
  RETURN_IF_ERROR(ReadStream(f, &r));
  RETURN_IF_ERROR(ReadGenerationParams(f, &r.pipeline.params));
  switch (api) {
    case OpenAiApi::kChatCompletions: RETURN_IF_ERROR(ParseChat(f, &r)); break;
    case OpenAiApi::kCompletions: RETURN_IF_ERROR(ParseCompletion(f, &r)); break;
    case OpenAiApi::kResponses: RETURN_IF_ERROR(ParseResponses(f, &r)); break;
  }
  return r;
}

}  // namespace
}  // namespace sllm::gateway
