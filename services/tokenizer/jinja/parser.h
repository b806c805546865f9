// Tokens -> syntax tree, with @huggingface/jinja's grammar and operator precedence (lowest
// first): `a if b else c` / `a if b`, `or`, `and`, `not`, comparisons and `in` / `not in`,
// `+ - ~`, `* / // %`, `**`, `is [not] test`, `| filter`, unary `- +`, calls and members.
// Constructs the reference rejects only when it evaluates them (unknown filters and tests,
// bad assignment targets) parse here too and fail at render time, on the same templates.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_PARSER_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_PARSER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "services/tokenizer/jinja/ast.h"
#include "services/tokenizer/jinja/lexer.h"

namespace sllm::tokenizer::jinja {

// Nesting deeper than this (parentheses, blocks) is a syntax error: it keeps parsing and
// rendering within a bounded stack.
inline constexpr int kMaxParseDepth = 100;

// Errors read "template line N: ...".
absl::StatusOr<Program> Parse(std::vector<Token> tokens);

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_PARSER_H_
