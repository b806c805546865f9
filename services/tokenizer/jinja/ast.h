// The syntax tree of a template: expressions and statements, shaped like @huggingface/jinja's
// AST (same node kinds, same precedence), each node with its template line.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_AST_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_AST_H_

#include <memory>
#include <string>
#include <vector>

#include "services/tokenizer/jinja/value.h"

namespace sllm::tokenizer::jinja {

enum class ExprKind : uint8_t {
  kLiteral,        // `literal` (integer, float or string).
  kIdentifier,     // `name`.
  kArray,          // [children...]
  kTuple,          // (children...)
  kObject,         // {children[0]: children[1], children[2]: children[3], ...}
  kMember,         // children[0].name / children[0][children[1]]; computed = `flag`.
  kSlice,          // Only as a computed member property: start, stop, step (each may be null).
  kCall,           // children[0](children[1...])
  kUnary,          // `op` children[0]
  kBinary,         // children[0] `op` children[1]
  kFilter,         // children[0] | name(children[1...]); called = `flag`.
  kTest,           // children[0] is [not] name; negated = `flag`.
  kSelect,         // children[0] if children[1] (no else): undefined when false.
  kTernary,        // children[1] if children[0] else children[2]
  kKeywordArg,     // name=children[0] (call arguments, parameter defaults).
  kSpread,         // *children[0]
  kKeywordSpread,  // **children[0]
};

enum class Op : uint8_t {
  kNone, kAnd, kOr, kNot, kEq, kNe, kLt, kGt, kLe, kGe, kIn, kNotIn,
  kAdd, kSub, kConcat, kMul, kDiv, kFloorDiv, kMod, kPow, kNeg, kPos,
};

struct Expr {
  ExprKind kind;
  int line = 0;
  Op op = Op::kNone;
  // kMember: computed (`a[b]`); kFilter: has an argument list; kTest: negated.
  bool flag = false;
  // kFilter: the filter was followed by `.x`/`(...)` after its arguments, which the reference
  // parses but cannot apply (an error when evaluated).
  bool malformed = false;
  std::string name;
  // kLiteral: the value. kMember with `.name` / `.0`: the property as a string / integer.
  Value literal;
  std::vector<std::unique_ptr<Expr>> children;
};

enum class StmtKind : uint8_t {
  kText,         // `text` as is.
  kOutput,       // {{ expr }}
  kIf,           // if expr: body else else_body (an elif is a nested kIf in else_body).
  kFor,          // for target in expr [if cond]: body else else_body.
  kSet,          // set target = expr, or set target %}body{% endset.
  kMacro,        // macro name(params): body.
  kCallBlock,    // call(params) expr: body — expr is a kCall.
  kFilterBlock,  // filter expr: body — expr is a kFilter without operand.
  kBreak,
  kContinue,
  kComment,
};

struct Param {
  std::string name;
  std::unique_ptr<Expr> default_value;  // Null when the parameter has no default.
};

struct Stmt {
  StmtKind kind;
  int line = 0;
  std::string text;
  std::unique_ptr<Expr> expr;
  std::unique_ptr<Expr> target;
  std::unique_ptr<Expr> cond;
  std::vector<std::unique_ptr<Stmt>> body;
  std::vector<std::unique_ptr<Stmt>> else_body;
  // kMacro, kCallBlock.
  std::string name;
  std::vector<Param> params;
  bool uses_kwargs = false;   // The body reads `kwargs`: extra keyword arguments go there.
  bool uses_varargs = false;  // The body reads `varargs`: extra positional arguments go there.
};

struct Program {
  std::vector<std::unique_ptr<Stmt>> body;
};

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_AST_H_
