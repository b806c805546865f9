#include "tools/tokenize/tokenize_cli.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/incremental_detokenizer.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tools {
namespace {

using Json = nlohmann::json;

std::string ErrorLine(absl::string_view message) {
  return Json{{"error", std::string(message)}}.dump();
}

bool ParseIds(const Json& j, std::vector<uint32_t>& ids) {
  if (!j.is_array()) return false;
  for (const auto& v : j) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > UINT32_MAX) {
      return false;
    }
    ids.push_back(v.get<uint32_t>());
  }
  return true;
}

// Renders one chat line: {"messages": [...], ...} -> the prompt as a JSON string.
std::string ProcessChatLine(const tokenizer::ModelTokenizer& model,
                            const TokenizeCliOptions& options, const std::string& line,
                            bool& error) {
  if (!options.chat_template.ok()) return ErrorLine(options.chat_template.status().message());
  nlohmann::ordered_json conversation =
      nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (conversation.is_discarded()) return ErrorLine("input line is not valid JSON");
  tokenizer::jinja::SpecialTokens special;
  special.named = model.config().template_tokens;
  special.additional = model.config().additional_special_tokens;
  auto prompt = tokenizer::jinja::RenderChatPrompt(**options.chat_template, special, conversation,
                                                   nlohmann::ordered_json(), options.chat);
  if (!prompt.ok()) return ErrorLine(prompt.status().message());
  error = false;
  return Json(*prompt).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<std::shared_ptr<const tokenizer::jinja::ChatTemplate>> LoadChatTemplate(
    const tokenizer::ModelTokenizer& model, const std::string& template_path) {
  std::string source;
  if (!template_path.empty()) {
    std::ifstream in(template_path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read template ", template_path));
    std::stringstream ss;
    ss << in.rdbuf();
    source = ss.str();
  } else if (model.config().chat_template) {
    source = *model.config().chat_template;
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        model.dir(), "/tokenizer_config.json has no chat_template (pass --template FILE)"));
  }
  return tokenizer::jinja::ChatTemplate::Parse(std::move(source));
}

std::string ProcessLine(const tokenizer::ModelTokenizer& model, const TokenizeCliOptions& options,
                        const std::string& line, bool& error) {
  error = true;
  const tokenizer::Tokenizer& tok = model.tokenizer();
  // Input must be valid UTF-8 before JSON sees it, so the error can name the byte.
  if (auto st = tokenizer::ValidateUtf8(line, "input line"); !st.ok()) {
    return ErrorLine(st.message());
  }
  if (options.mode == TokenizeMode::kChat) return ProcessChatLine(model, options, line, error);
  Json j = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return ErrorLine("input line is not valid JSON");
  if (options.mode == TokenizeMode::kEncode) {
    if (!j.is_string()) return ErrorLine("expected a JSON string");
    const std::string text = j.get<std::string>();
    auto enc = tok.Encode(text, {.add_special_tokens = options.add_special_tokens});
    if (!enc.ok()) return ErrorLine(enc.status().message());
    error = false;
    return Json(enc->ids).dump();
  }
  std::vector<uint32_t> ids;
  if (!ParseIds(j, ids)) return ErrorLine("expected a JSON array of non-negative integer ids");
  if (options.mode == TokenizeMode::kDecode) {
    auto text = tok.Decode(ids, options.skip_special_tokens);
    if (!text.ok()) return ErrorLine(text.status().message());
    error = false;
    return Json(*text).dump();
  }
  tokenizer::IncrementalDetokenizer detok(tok, options.skip_special_tokens);
  Json deltas = Json::array();
  for (uint32_t id : ids) {
    auto delta = detok.Add(id);
    if (!delta.ok()) return ErrorLine(delta.status().message());
    deltas.push_back(*delta);
  }
  deltas.push_back(detok.Finish());
  error = false;
  // Deltas are valid UTF-8 by construction; a strict dump() would throw otherwise.
  return deltas.dump();
}

int RunTokenizeCli(const tokenizer::ModelTokenizer& model, const TokenizeCliOptions& options,
                   std::istream& in, std::ostream& out) {
  int errors = 0;
  std::string line;
  std::string buffer;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    bool error = false;
    buffer += ProcessLine(model, options, line, error);
    buffer += '\n';
    errors += error ? 1 : 0;
    if (buffer.size() > (1 << 16)) {
      out << buffer;
      buffer.clear();
    }
  }
  out << buffer;
  out.flush();
  return errors;
}

}  // namespace sllm::tools
