#include "services/tokenizer/service/tokenizer_core.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/common/status_macros.h"
#include "services/hub/model_dir.h"
#include "services/tokenizer/jinja/chat_prompt.h"
#include "services/tokenizer/service/chat_input.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

void SetToken(const std::optional<NamedToken>& t, v1::SpecialToken* out) {
  out->set_text(t->text);
  out->set_id(t->id);
}

}  // namespace

absl::StatusOr<std::vector<ModelSpec>> ParseModelSpecs(const std::string& flag) {
  std::vector<ModelSpec> specs;
  for (absl::string_view item : absl::StrSplit(flag, ',', absl::SkipEmpty())) {
    ModelSpec spec;
    const size_t tmpl = item.rfind(":template=");
    if (tmpl != absl::string_view::npos) {
      spec.chat_template = std::string(item.substr(tmpl + 10));
      item = item.substr(0, tmpl);
      if (spec.chat_template->empty()) {
        return absl::InvalidArgumentError("--models entry has an empty :template= file");
      }
    }
    const size_t eq = item.find('=');
    if (eq != absl::string_view::npos) {
      spec.name = std::string(item.substr(0, eq));
      spec.dir = std::string(item.substr(eq + 1));
    } else {
      spec.dir = std::string(item);
      spec.name = hub::DefaultModelName(spec.dir);
    }
    if (spec.name.empty() || spec.dir.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--models entry '", std::string(item),
                                                     "' must be NAME=DIR or DIR"));
    }
    specs.push_back(std::move(spec));
  }
  if (specs.empty()) return absl::InvalidArgumentError("--models names no model");
  return specs;
}

absl::StatusOr<std::unique_ptr<TokenizerCore>> TokenizerCore::Load(
    const std::vector<ModelSpec>& specs) {
  auto core = std::make_unique<TokenizerCore>();
  for (const ModelSpec& spec : specs) {
    if (core->models_.contains(spec.name)) {
      return absl::InvalidArgumentError(absl::StrCat("model name '", spec.name, "' given twice"));
    }
    ASSIGN_OR_RETURN(auto model, ModelTokenizer::Load(spec.name, spec.dir));
    std::optional<std::string> source = model->config().chat_template;
    if (spec.chat_template) {
      std::ifstream in(*spec.chat_template, std::ios::binary);
      if (!in) {
        return absl::NotFoundError(absl::StrCat("model '", spec.name, "': cannot read chat template ",
                                                *spec.chat_template));
      }
      std::stringstream ss;
      ss << in.rdbuf();
      source = ss.str();
    }
    if (source) core->templates_.emplace(spec.name, jinja::ChatTemplate::Parse(std::move(*source)));
    core->models_.emplace(spec.name, std::move(model));
  }
  return core;
}

absl::StatusOr<const ModelTokenizer*> TokenizerCore::Find(const std::string& name) const {
  auto it = models_.find(name);
  if (it != models_.end()) return it->second.get();
  std::vector<std::string> names;
  for (const auto& [n, m] : models_) names.push_back(n);
  return absl::NotFoundError(absl::StrCat("model '", name, "' is not served here; models: ",
                                          absl::StrJoin(names, ", ")));
}

absl::StatusOr<std::string> TokenizerCore::RenderChat(
    const ModelTokenizer& model, const v1::ChatInput& chat,
    const std::optional<std::string>& template_override) const {
  std::shared_ptr<const jinja::ChatTemplate> tmpl;
  if (template_override) {
    auto parsed = jinja::ChatTemplate::Parse(*template_override);
    if (!parsed.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("chat_template: ", parsed.status().message()));
    }
    tmpl = *parsed;
  } else {
    auto it = templates_.find(model.name());
    if (it == templates_.end()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "model '", model.name(),
          "' has no chat template (tokenizer_config.json has no chat_template)"));
    }
    if (!it->second.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "model '", model.name(), "': chat template: ", it->second.status().message()));
    }
    tmpl = *it->second;
  }
  if (chat.messages_size() == 0) return absl::InvalidArgumentError("chat.messages is empty");
  if (chat.add_generation_prompt() && chat.continue_final_message()) {
    return absl::InvalidArgumentError(
        "chat: add_generation_prompt and continue_final_message cannot both be set");
  }
  ASSIGN_OR_RETURN(ChatVariables vars, ChatInputToVariables(chat));
  jinja::SpecialTokens special;
  special.named = model.config().template_tokens;
  special.additional = model.config().additional_special_tokens;
  jinja::ChatPromptOptions options;
  options.add_generation_prompt = chat.add_generation_prompt();
  options.continue_final_message = chat.continue_final_message();
  auto prompt = jinja::RenderChatPrompt(*tmpl, special, vars.conversation, vars.kwargs, options);
  if (!prompt.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("model '", model.name(),
                                                      "': chat template: ", prompt.status().message()));
  }
  return prompt;
}

absl::StatusOr<v1::EncodeResponse> TokenizerCore::Encode(const v1::EncodeRequest& request) const {
  ASSIGN_OR_RETURN(const ModelTokenizer* model, Find(request.model()));
  std::string text;
  bool add_special = true;
  v1::EncodeResponse response;
  switch (request.input_case()) {
    case v1::EncodeRequest::kText:
      RETURN_IF_ERROR(ValidateUtf8(request.text(), "text"));
      text = request.text();
      add_special = request.has_add_special_tokens() ? request.add_special_tokens() : true;
      break;
    case v1::EncodeRequest::kChat: {
      ASSIGN_OR_RETURN(text, RenderChat(*model, request.chat(), std::nullopt));
      // As transformers: the template writes the special tokens itself.
      add_special = request.has_add_special_tokens() ? request.add_special_tokens() : false;
      response.set_prompt(text);
      break;
    }
    default:
      return absl::InvalidArgumentError("input: set text or chat");
  }
  ASSIGN_OR_RETURN(Encoding enc,
                   model->tokenizer().Encode(text, {.add_special_tokens = add_special,
                                                    .return_offsets = request.return_offsets()}));
  response.mutable_ids()->Add(enc.ids.begin(), enc.ids.end());
  for (const Range& r : enc.offsets) {
    response.add_offsets(r.first);
    response.add_offsets(r.second);
  }
  return response;
}

absl::StatusOr<v1::DecodeResponse> TokenizerCore::Decode(const v1::DecodeRequest& request) const {
  ASSIGN_OR_RETURN(const ModelTokenizer* model, Find(request.model()));
  std::vector<uint32_t> ids(request.ids().begin(), request.ids().end());
  ASSIGN_OR_RETURN(std::string text,
                   model->tokenizer().Decode(ids, request.skip_special_tokens()));
  v1::DecodeResponse response;
  response.set_text(std::move(text));
  return response;
}

absl::StatusOr<v1::ApplyChatTemplateResponse> TokenizerCore::ApplyChatTemplate(
    const v1::ApplyChatTemplateRequest& request) const {
  ASSIGN_OR_RETURN(const ModelTokenizer* model, Find(request.model()));
  std::optional<std::string> override;
  if (request.has_chat_template()) override = request.chat_template();
  ASSIGN_OR_RETURN(std::string prompt, RenderChat(*model, request.chat(), override));
  v1::ApplyChatTemplateResponse response;
  response.set_prompt(std::move(prompt));
  return response;
}

absl::StatusOr<v1::GetTokenizerInfoResponse> TokenizerCore::GetInfo(
    const v1::GetTokenizerInfoRequest& request) const {
  ASSIGN_OR_RETURN(const ModelTokenizer* model, Find(request.model()));
  const TokenizerConfig& c = model->config();
  const Tokenizer& tok = model->tokenizer();
  v1::GetTokenizerInfoResponse r;
  r.set_model(model->name());
  r.set_vocab_size(tok.vocab_size());
  if (c.bos) SetToken(c.bos, r.mutable_bos());
  if (c.eos) SetToken(c.eos, r.mutable_eos());
  if (c.pad) SetToken(c.pad, r.mutable_pad());
  if (c.unk) SetToken(c.unk, r.mutable_unk());
  r.mutable_eos_token_ids()->Add(c.eos_token_ids.begin(), c.eos_token_ids.end());
  std::vector<const AddedToken*> specials;
  for (const AddedToken& t : tok.added_tokens()) {
    if (t.special) specials.push_back(&t);
  }
  std::sort(specials.begin(), specials.end(),
            [](const AddedToken* a, const AddedToken* b) { return a->id < b->id; });
  for (const AddedToken* t : specials) {
    v1::SpecialToken* s = r.add_special_tokens();
    s->set_text(t->content);
    s->set_id(t->id);
  }
  r.set_has_chat_template(templates_.contains(model->name()));
  r.set_model_max_length(c.model_max_length);
  r.set_add_bos_token(c.add_bos_token);
  r.set_add_eos_token(c.add_eos_token);
  r.set_model_type("BPE");
  return r;
}

v1::ListTokenizerModelsResponse TokenizerCore::ListModels() const {
  v1::ListTokenizerModelsResponse r;
  for (const auto& [name, m] : models_) r.add_models(name);
  return r;
}

absl::StatusOr<v1::DecodeStreamResponse> DecodeStreamSession::Handle(
    const v1::DecodeStreamRequest& request) {
  if (finished_) return absl::FailedPreconditionError("DecodeStream already finished");
  if (detok_ == nullptr) {
    if (!request.has_start()) {
      return absl::InvalidArgumentError("start: the first DecodeStream message must set start");
    }
    ASSIGN_OR_RETURN(const ModelTokenizer* model, core_.Find(request.start().model()));
    model_ = model->name();
    detok_ = std::make_unique<IncrementalDetokenizer>(model->tokenizer(),
                                                      request.start().skip_special_tokens());
    // Prefix ids set the context; their settled text is not part of this stream.
    for (uint32_t id : request.start().prefix_ids()) {
      ASSIGN_OR_RETURN(std::string ignored, detok_->Add(id));
    }
  } else if (request.has_start()) {
    return absl::InvalidArgumentError("start: only the first DecodeStream message may set start");
  }
  v1::DecodeStreamResponse response;
  std::string text;
  for (uint32_t id : request.ids()) {
    ASSIGN_OR_RETURN(std::string delta, detok_->Add(id));
    text += delta;
    ++num_ids_;
  }
  if (request.finish()) {
    text += detok_->Finish();
    finished_ = true;
    response.set_finished(true);
  }
  response.set_text(std::move(text));
  response.set_num_ids(num_ids_);
  return response;
}

}  // namespace sllm::tokenizer
