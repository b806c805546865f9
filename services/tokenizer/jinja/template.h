// Hugging Face chat templates: a Jinja interpreter that renders them byte for byte like the
// reference renderer transformers.js uses, @huggingface/jinja (including its departures from
// Python Jinja: `true`/`false` print lowercase, `tojson` follows JS number printing, string
// lengths count UTF-16 units). No torch, no gRPC.
//
//   ASSIGN_OR_RETURN(auto tmpl, ChatTemplate::Parse(source));        // once per model
//   nlohmann::ordered_json context = {{"messages", ...}, {"add_generation_prompt", true},
//                                     {"bos_token", "<s>"}};
//   ASSIGN_OR_RETURN(std::string prompt, tmpl->Render(context, {}));
//
// Errors (syntax, unsupported constructs, raise_exception, limits) name the template line:
// "template line 12: raise_exception: Conversation roles must alternate ...".
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_TEMPLATE_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_TEMPLATE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace sllm::tokenizer::jinja {

struct Program;

// A calendar date.
struct Date {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
};

// Parses "YYYY-MM-DD".
absl::StatusOr<Date> ParseDate(absl::string_view text);

struct RenderOptions {
  // The date strftime_now() formats, at 00:00:00 (tests and reproducible prompts). Unset: the
  // current local date and time.
  std::optional<Date> fixed_date;
  // Longest output (or intermediate string) a render may build.
  size_t max_output_bytes = 16 << 20;
  // Loop iterations plus macro calls plus built list elements, over the whole render.
  int64_t max_steps = 5'000'000;
  // Deepest nesting of macro and call-block calls.
  int max_call_depth = 64;
};

class ChatTemplate {
 public:
  // Parses a template; syntax errors name the line. The result is immutable and may render on
  // many threads at once.
  static absl::StatusOr<std::shared_ptr<const ChatTemplate>> Parse(std::string source);

  // Renders with the variables of `context` (a JSON object: messages, tools, documents,
  // add_generation_prompt, special tokens, extra keyword arguments). The globals true, false,
  // none, True, False, None, range, namespace, raise_exception and strftime_now are always
  // there; context keys override all but the last three.
  absl::StatusOr<std::string> Render(const nlohmann::ordered_json& context,
                                     const RenderOptions& options = {}) const;

  const std::string& source() const { return source_; }

  ChatTemplate(std::string source, std::unique_ptr<Program> program);
  ~ChatTemplate();

 private:
  std::string source_;
  std::unique_ptr<Program> program_;
};

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_TEMPLATE_H_
