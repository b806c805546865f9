// The line protocol of `sllm-tokenize`, separate from main() so that it can be tested.
#ifndef SLLM_TOOLS_TOKENIZE_TOKENIZE_CLI_H_
#define SLLM_TOOLS_TOKENIZE_TOKENIZE_CLI_H_

#include <istream>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "services/tokenizer/jinja/chat_prompt.h"
#include "services/tokenizer/jinja/template.h"
#include "services/tokenizer/model_tokenizer.h"

namespace sllm::tools {

enum class TokenizeMode {
  kEncode,  // JSON string -> JSON array of ids.
  kDecode,  // JSON array of ids -> JSON string.
  kStream,  // JSON array of ids -> JSON array of incremental text deltas.
  kChat,    // {"messages": [...], ...extra template variables} -> the rendered prompt (JSON string).
};

struct TokenizeCliOptions {
  TokenizeMode mode = TokenizeMode::kEncode;
  // Encode: run the post-processor (BOS etc.). --no-special turns it off.
  bool add_special_tokens = true;
  // Decode / stream: drop special tokens.
  bool skip_special_tokens = false;
  // Chat: the template (--template FILE, else the model's tokenizer_config.json), parsed once;
  // an error here is reported on every line, as a render error would be.
  absl::StatusOr<std::shared_ptr<const tokenizer::jinja::ChatTemplate>> chat_template =
      absl::FailedPreconditionError("no chat template");
  // Chat: add_generation_prompt / continue_final_message and the strftime_now date.
  tokenizer::jinja::ChatPromptOptions chat;
};

// The chat template for `model` (or the file `template_path` when not empty).
absl::StatusOr<std::shared_ptr<const tokenizer::jinja::ChatTemplate>> LoadChatTemplate(
    const tokenizer::ModelTokenizer& model, const std::string& template_path);

// Processes `in` line by line: one output line per non-blank input line, in order. A line
// that cannot be processed yields {"error": "..."} and the run goes on. Returns the number
// of error lines.
int RunTokenizeCli(const tokenizer::ModelTokenizer& model, const TokenizeCliOptions& options,
                   std::istream& in, std::ostream& out);

// Processes one input line; returns the output line (without newline).
std::string ProcessLine(const tokenizer::ModelTokenizer& model, const TokenizeCliOptions& options,
                        const std::string& line, bool& error);

}  // namespace sllm::tools

#endif  // SLLM_TOOLS_TOKENIZE_TOKENIZE_CLI_H_
