// Template source -> tokens, as @huggingface/jinja's lexer does it with trim_blocks and
// lstrip_blocks on (what transformers' chat-template environment sets):
//   - one trailing newline of the source is dropped;
//   - lstrip_blocks: spaces/tabs before `{%`/`{#` at the start of a line are removed;
//   - trim_blocks: the newline right after `%}`/`#}` is removed;
//   - transformers' `{% generation %}` / `{% endgeneration %}` tags are removed;
//   - `{%-`/`{{-`/`{#-` strip the whitespace before them and `-%}`/`-}}`/`-#}` after them.
// Every token remembers the line of the original source it starts on, for error messages.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_LEXER_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_LEXER_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"

namespace sllm::tokenizer::jinja {

enum class TokenType : uint8_t {
  kText,
  kNumericLiteral,
  kStringLiteral,
  kIdentifier,
  kEquals,
  kOpenParen,
  kCloseParen,
  kOpenStatement,
  kCloseStatement,
  kOpenExpression,
  kCloseExpression,
  kOpenSquareBracket,
  kCloseSquareBracket,
  kOpenCurlyBracket,
  kCloseCurlyBracket,
  kComma,
  kDot,
  kColon,
  kPipe,
  kAdditiveOperator,        // + - ~
  kMultiplicativeOperator,  // * / // %
  kExponentiationOperator,  // **
  kComparisonOperator,      // < > <= >= == !=
  kUnaryOperator,           // - + not followed by a number
  kComment,
};

struct Token {
  TokenType type;
  std::string value;
  int line = 0;  // 1-based line in the original template source.
};

// The source after the preprocessing steps above; `origin[i]` is the offset in `source` of
// output byte i.
struct Preprocessed {
  std::string text;
  std::vector<uint32_t> origin;
};
Preprocessed Preprocess(absl::string_view source);

// Errors read "template line N: ...".
absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view source);

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_LEXER_H_
