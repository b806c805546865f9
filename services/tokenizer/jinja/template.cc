#include "services/tokenizer/jinja/template.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/ast.h"
#include "services/tokenizer/jinja/builtins.h"
#include "services/tokenizer/jinja/interpreter.h"
#include "services/tokenizer/jinja/json.h"
#include "services/tokenizer/jinja/lexer.h"
#include "services/tokenizer/jinja/parser.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {

absl::StatusOr<Date> ParseDate(absl::string_view text) {
  auto bad = [&] {
    return absl::InvalidArgumentError(absl::StrCat("date '", std::string(text),
                                                   "' is not YYYY-MM-DD"));
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  auto number = [&](size_t pos, size_t len, int* out) {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      v = v * 10 + (text[i] - '0');
    }
    *out = v;
    return true;
  };
  Date d;
  if (!number(0, 4, &d.year) || !number(5, 2, &d.month) || !number(8, 2, &d.day)) return bad();
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d.month < 1 || d.month > 12 || d.day < 1 || d.day > kDays[d.month - 1]) return bad();
  const bool leap = (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0;
  if (d.month == 2 && d.day == 29 && !leap) return bad();
  return d;
}

ChatTemplate::ChatTemplate(std::string source, std::unique_ptr<Program> program)
    : source_(std::move(source)), program_(std::move(program)) {}

ChatTemplate::~ChatTemplate() = default;

absl::StatusOr<std::shared_ptr<const ChatTemplate>> ChatTemplate::Parse(std::string source) {
  if (std::string err = Utf8Error(source); !err.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("template is not valid UTF-8: ", err));
  }
  ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(source));
  ASSIGN_OR_RETURN(Program program, jinja::Parse(std::move(tokens)));
  return std::make_shared<const ChatTemplate>(std::move(source),
                                              std::make_unique<Program>(std::move(program)));
}

absl::StatusOr<std::string> ChatTemplate::Render(const nlohmann::ordered_json& context,
                                                 const RenderOptions& options) const {
  if (!context.is_object()) return absl::InvalidArgumentError("render context must be a JSON object");
  const VariableMap& builtins = BuiltinGlobals();
  VariableMap globals;
  globals.reserve(context.size());
  for (const auto& [key, value] : context.items()) {
    // The functions the renderer provides cannot be replaced by context keys.
    if (key == "namespace" || key == "raise_exception" || key == "strftime_now") continue;
    ASSIGN_OR_RETURN(Value v, FromJson(value));
    globals[key] = std::move(v);
  }
  Scope root(&globals, &builtins);
  Interpreter interp(options);
  return interp.Run(*program_, root);
}

}  // namespace sllm::tokenizer::jinja
