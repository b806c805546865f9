// The parser's class, shared by parser.cc (statements) and parse_expression.cc (expressions).
// Internal to the jinja library.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_PARSER_IMPL_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_PARSER_IMPL_H_

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/ast.h"
#include "services/tokenizer/jinja/lexer.h"
#include "services/tokenizer/jinja/parser.h"

namespace sllm::tokenizer::jinja::parser_internal {

using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

inline ExprPtr MakeExpr(ExprKind kind, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->line = line;
  return e;
}

inline StmtPtr MakeStmt(StmtKind kind, int line) {
  auto s = std::make_unique<Stmt>();
  s->kind = kind;
  s->line = line;
  return s;
}

inline Op BinaryOp(absl::string_view v) {
  static const std::pair<absl::string_view, Op> kOps[] = {
      {"and", Op::kAnd},  {"or", Op::kOr},      {"==", Op::kEq},     {"!=", Op::kNe},
      {"<", Op::kLt},     {">", Op::kGt},       {"<=", Op::kLe},     {">=", Op::kGe},
      {"in", Op::kIn},    {"not in", Op::kNotIn}, {"+", Op::kAdd},   {"-", Op::kSub},
      {"~", Op::kConcat}, {"*", Op::kMul},      {"/", Op::kDiv},     {"//", Op::kFloorDiv},
      {"%", Op::kMod},    {"**", Op::kPow}};
  for (const auto& [text, op] : kOps) {
    if (text == v) return op;
  }
  return Op::kNone;
}

// Finds reads of `kwargs` / `varargs` in a macro or call-block body that no parameter, loop

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  absl::StatusOr<Program> Run() {
    Program program;
    while (cur_ < tokens_.size()) {
      ASSIGN_OR_RETURN(StmtPtr s, ParseAny());
      program.body.push_back(std::move(s));
    }
    return program;
  }

 private:
  // Counts nesting; fails past kMaxParseDepth.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser& p) : p_(p) { ++p_.depth_; }
    ~DepthGuard() { --p_.depth_; }
    absl::Status Check() const {
      if (p_.depth_ > kMaxParseDepth) {
        return p_.Error(absl::StrCat("template nested more than ", kMaxParseDepth, " levels deep"));
      }
      return absl::OkStatus();
    }

   private:
    Parser& p_;
  };

  bool AtEnd() const { return cur_ >= tokens_.size(); }
  const Token* Peek(size_t k = 0) const {
    return cur_ + k < tokens_.size() ? &tokens_[cur_ + k] : nullptr;
  }
  bool Is(TokenType t, size_t k = 0) const {
    const Token* tok = Peek(k);
    return tok != nullptr && tok->type == t;
  }
  bool IsIdentifier(absl::string_view name, size_t k = 0) const {
    const Token* tok = Peek(k);
    return tok != nullptr && tok->type == TokenType::kIdentifier && tok->value == name;
  }
  bool IsStatement(std::initializer_list<absl::string_view> names) const {
    if (!Is(TokenType::kOpenStatement) || !Is(TokenType::kIdentifier, 1)) return false;
    for (absl::string_view n : names) {
      if (Peek(1)->value == n) return true;
    }
    return false;
  }
  int Line() const {
    if (const Token* t = Peek()) return t->line;
    return tokens_.empty() ? 1 : tokens_.back().line;
  }
  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("template line ", Line(), ": ", message));
  }
  absl::StatusOr<const Token*> Expect(TokenType type, absl::string_view what) {
    if (!Is(type)) {
      if (AtEnd()) return Error(absl::StrCat("unexpected end of template, expected ", what));
      return Error(absl::StrCat("expected ", what, ", got '", Peek()->value, "'"));
    }
    return &tokens_[cur_++];
  }
  absl::Status ExpectIdentifier(absl::string_view name) {
    if (!IsIdentifier(name)) return Error(absl::StrCat("expected '", name, "'"));
    ++cur_;
    return absl::OkStatus();
  }
  // Parses statements until one of `ends` ({% end... %}); `opener` names the block in errors.
  absl::Status ParseBody(std::initializer_list<absl::string_view> ends, int opener_line,
                         absl::string_view opener, StmtList& body) {
    while (!IsStatement(ends)) {
      if (AtEnd()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "template line ", opener_line, ": '", opener, "' block is never closed (expected {% ",
            *ends.begin(), " %})"));
      }
      ASSIGN_OR_RETURN(StmtPtr s, ParseAny());
      body.push_back(std::move(s));
    }
    return absl::OkStatus();
  }
  absl::Status ExpectEnd(absl::string_view name) {
    RETURN_IF_ERROR(Expect(TokenType::kOpenStatement, "'{%'"));
    RETURN_IF_ERROR(ExpectIdentifier(name));
    RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
    return absl::OkStatus();
  }

  absl::StatusOr<StmtPtr> ParseAny();
  absl::StatusOr<StmtPtr> ParseStatement();
  absl::StatusOr<StmtPtr> ParseSet(int line);
  absl::StatusOr<StmtPtr> ParseIf(int line);
  absl::StatusOr<StmtPtr> ParseMacro(int line);
  absl::StatusOr<StmtPtr> ParseFor(int line);
  absl::StatusOr<StmtPtr> ParseCallBlock(int line);
  absl::StatusOr<StmtPtr> ParseFilterBlock(int line);

  absl::StatusOr<ExprPtr> ParseExpressionSequence(bool primary);
  absl::StatusOr<ExprPtr> ParseExpression();
  absl::StatusOr<ExprPtr> ParseLogicalOr();
  absl::StatusOr<ExprPtr> ParseLogicalAnd();
  absl::StatusOr<ExprPtr> ParseLogicalNot();
  absl::StatusOr<ExprPtr> ParseComparison();
  absl::StatusOr<ExprPtr> ParseAdditive();
  absl::StatusOr<ExprPtr> ParseMultiplicative();
  absl::StatusOr<ExprPtr> ParsePower();
  absl::StatusOr<ExprPtr> ParseTest();
  absl::StatusOr<ExprPtr> ParseFilter();
  absl::StatusOr<ExprPtr> ParseUnarySign();
  absl::StatusOr<ExprPtr> ParseCallMember();
  absl::StatusOr<ExprPtr> ParseCall(ExprPtr callee);
  absl::Status ParseArgs(bool parameters, std::vector<ExprPtr>& args);
  absl::StatusOr<ExprPtr> ParseMember(ExprPtr object);
  absl::StatusOr<ExprPtr> ParseSubscript(int line);
  absl::StatusOr<ExprPtr> ParsePrimary();
  absl::StatusOr<ExprPtr> BinaryLoop(absl::StatusOr<ExprPtr> (Parser::*next)(), TokenType type);

  std::vector<Token> tokens_;
  size_t cur_ = 0;
  int depth_ = 0;
};


}  // namespace sllm::tokenizer::jinja::parser_internal

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_PARSER_IMPL_H_
