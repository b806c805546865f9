// The line protocol of `sllm-tokenize`, separate from main() so that it can be tested.
#ifndef SLLM_TOOLS_TOKENIZE_TOKENIZE_CLI_H_
#define SLLM_TOOLS_TOKENIZE_TOKENIZE_CLI_H_

#include <istream>
#include <ostream>
#include <string>

#include "services/tokenizer/model_tokenizer.h"

namespace sllm::tools {

enum class TokenizeMode {
  kEncode,  // JSON string -> JSON array of ids.
  kDecode,  // JSON array of ids -> JSON string.
  kStream,  // JSON array of ids -> JSON array of incremental text deltas.
};

struct TokenizeCliOptions {
  TokenizeMode mode = TokenizeMode::kEncode;
  // Encode: run the post-processor (BOS etc.). --no-special turns it off.
  bool add_special_tokens = true;
  // Decode / stream: drop special tokens.
  bool skip_special_tokens = false;
};

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
