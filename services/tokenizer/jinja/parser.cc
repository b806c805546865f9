#include "services/tokenizer/jinja/parser.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/parser_impl.h"

namespace sllm::tokenizer::jinja {
namespace parser_internal {
namespace {

// variable or set declares first (the reference's findAccessedSpecialMacroArguments).
class SpecialArgsVisitor {
 public:
  explicit SpecialArgsVisitor(const std::vector<Param>& params) {
    for (const Param& p : params) Declare(p.name);
  }
  void Visit(const StmtList& body) {
    for (const auto& s : body) Visit(*s);
  }
  bool kwargs = false;
  bool varargs = false;

 private:
  void Declare(const std::string& name) { declared_.insert(name); }
  void DeclareTarget(const Expr* e) {
    if (e == nullptr) return;
    if (e->kind == ExprKind::kIdentifier) Declare(e->name);
    if (e->kind == ExprKind::kTuple) {
      for (const auto& c : e->children) DeclareTarget(c.get());
    }
  }
  void VisitParams(const std::vector<Param>& params) {
    for (const Param& p : params) Declare(p.name);
    for (const Param& p : params) Visit(p.default_value.get());
  }
  void Visit(const Stmt& s) {
    switch (s.kind) {
      case StmtKind::kFor:
        DeclareTarget(s.target.get());
        Visit(s.expr.get());
        Visit(s.body);
        Visit(s.else_body);
        Visit(s.cond.get());
        return;
      case StmtKind::kSet:
        DeclareTarget(s.target.get());
        Visit(s.expr.get());
        Visit(s.body);
        return;
      case StmtKind::kMacro:
        VisitParams(s.params);
        Visit(s.body);
        return;
      case StmtKind::kCallBlock:
        Visit(s.expr.get());
        VisitParams(s.params);
        Visit(s.body);
        return;
      case StmtKind::kFilterBlock:
        Visit(s.body);
        Visit(s.expr.get());
        return;
      default:
        Visit(s.expr.get());
        Visit(s.body);
        Visit(s.else_body);
    }
  }
  void Visit(const Expr* e) {
    if (e == nullptr) return;
    switch (e->kind) {
      case ExprKind::kIdentifier:
        if (!declared_.contains(e->name)) {
          kwargs |= e->name == "kwargs";
          varargs |= e->name == "varargs";
        }
        return;
      case ExprKind::kMember:
        Visit(e->children[0].get());
        if (e->flag) Visit(e->children[1].get());
        return;
      case ExprKind::kTest:
        Visit(e->children[0].get());
        return;
      case ExprKind::kSelect:
        Visit(e->children[1].get());
        Visit(e->children[0].get());
        return;
      default:
        for (const auto& c : e->children) Visit(c.get());
    }
  }
  std::set<std::string> declared_;
};


}  // namespace

absl::StatusOr<StmtPtr> Parser::ParseAny() {
  DepthGuard guard(*this);
  RETURN_IF_ERROR(guard.Check());
  const Token& t = tokens_[cur_];
  switch (t.type) {
    case TokenType::kComment: {
      ++cur_;
      return MakeStmt(StmtKind::kComment, t.line);
    }
    case TokenType::kText: {
      auto s = MakeStmt(StmtKind::kText, t.line);
      s->text = t.value;
      ++cur_;
      return s;
    }
    case TokenType::kOpenStatement:
      return ParseStatement();
    case TokenType::kOpenExpression: {
      auto s = MakeStmt(StmtKind::kOutput, t.line);
      ++cur_;
      ASSIGN_OR_RETURN(s->expr, ParseExpression());
      RETURN_IF_ERROR(Expect(TokenType::kCloseExpression, "'}}'"));
      return s;
    }
    default:
      return Error(absl::StrCat("unexpected '", t.value, "'"));
  }
}

absl::StatusOr<StmtPtr> Parser::ParseStatement() {
  const int line = Line();
  ++cur_;  // {%
  if (!Is(TokenType::kIdentifier)) {
    return Error(AtEnd() ? "unexpected end of template after '{%'" : "expected a statement name");
  }
  const std::string name = Peek()->value;
  ++cur_;
  if (name == "set") return ParseSet(line);
  if (name == "if") {
    ASSIGN_OR_RETURN(StmtPtr s, ParseIf(line));
    RETURN_IF_ERROR(ExpectEnd("endif"));
    return s;
  }
  if (name == "macro") {
    ASSIGN_OR_RETURN(StmtPtr s, ParseMacro(line));
    RETURN_IF_ERROR(ExpectEnd("endmacro"));
    return s;
  }
  if (name == "for") {
    ASSIGN_OR_RETURN(StmtPtr s, ParseFor(line));
    RETURN_IF_ERROR(ExpectEnd("endfor"));
    return s;
  }
  if (name == "call") return ParseCallBlock(line);
  if (name == "filter") return ParseFilterBlock(line);
  if (name == "break" || name == "continue") {
    RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
    return MakeStmt(name == "break" ? StmtKind::kBreak : StmtKind::kContinue, line);
  }
  --cur_;
  return Error(absl::StrCat("unknown statement '", name, "'"));
}

absl::StatusOr<StmtPtr> Parser::ParseSet(int line) {
  auto s = MakeStmt(StmtKind::kSet, line);
  ASSIGN_OR_RETURN(s->target, ParseExpressionSequence(false));
  if (Is(TokenType::kEquals)) {
    ++cur_;
    ASSIGN_OR_RETURN(s->expr, ParseExpressionSequence(false));
  } else {
    RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}' or '='"));
    RETURN_IF_ERROR(ParseBody({"endset"}, line, "set", s->body));
    RETURN_IF_ERROR(Expect(TokenType::kOpenStatement, "'{%'"));
    RETURN_IF_ERROR(ExpectIdentifier("endset"));
  }
  RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseIf(int line) {
  auto s = MakeStmt(StmtKind::kIf, line);
  ASSIGN_OR_RETURN(s->expr, ParseExpression());
  RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
  RETURN_IF_ERROR(ParseBody({"elif", "else", "endif"}, line, "if", s->body));
  if (IsStatement({"elif"})) {
    const int elif_line = Line();
    cur_ += 2;
    ASSIGN_OR_RETURN(StmtPtr nested, ParseIf(elif_line));
    s->else_body.push_back(std::move(nested));
  } else if (IsStatement({"else"})) {
    cur_ += 2;
    RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
    RETURN_IF_ERROR(ParseBody({"endif"}, line, "if", s->else_body));
  }
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseMacro(int line) {
  auto s = MakeStmt(StmtKind::kMacro, line);
  if (!Is(TokenType::kIdentifier)) return Error("expected a macro name");
  s->name = Peek()->value;
  ++cur_;
  std::vector<ExprPtr> params;
  RETURN_IF_ERROR(ParseArgs(/*parameters=*/true, params));
  for (ExprPtr& p : params) {
    Param param;
    param.name = p->name;
    if (p->kind == ExprKind::kKeywordArg) param.default_value = std::move(p->children[0]);
    s->params.push_back(std::move(param));
  }
  RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
  RETURN_IF_ERROR(ParseBody({"endmacro"}, line, "macro", s->body));
  SpecialArgsVisitor visitor(s->params);
  visitor.Visit(s->body);
  s->uses_kwargs = visitor.kwargs;
  s->uses_varargs = visitor.varargs;
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseFor(int line) {
  auto s = MakeStmt(StmtKind::kFor, line);
  ASSIGN_OR_RETURN(s->target, ParseExpressionSequence(true));
  if (s->target->kind != ExprKind::kIdentifier && s->target->kind != ExprKind::kTuple) {
    return Error("expected an identifier or a tuple as the loop variable");
  }
  if (!IsIdentifier("in")) return Error("expected 'in' after the loop variable");
  ++cur_;
  ASSIGN_OR_RETURN(s->expr, ParseExpression());
  if (s->expr->kind == ExprKind::kSelect) {
    ExprPtr select = std::move(s->expr);
    s->expr = std::move(select->children[0]);
    s->cond = std::move(select->children[1]);
  }
  RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
  RETURN_IF_ERROR(ParseBody({"endfor", "else"}, line, "for", s->body));
  if (IsStatement({"else"})) {
    cur_ += 2;
    RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
    RETURN_IF_ERROR(ParseBody({"endfor"}, line, "for", s->else_body));
  }
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseCallBlock(int line) {
  auto s = MakeStmt(StmtKind::kCallBlock, line);
  if (Is(TokenType::kOpenParen)) {
    std::vector<ExprPtr> params;
    RETURN_IF_ERROR(ParseArgs(/*parameters=*/true, params));
    for (ExprPtr& p : params) {
      Param param;
      param.name = p->name;
      if (p->kind == ExprKind::kKeywordArg) param.default_value = std::move(p->children[0]);
      s->params.push_back(std::move(param));
    }
  }
  ASSIGN_OR_RETURN(ExprPtr callee, ParsePrimary());
  if (callee->kind != ExprKind::kIdentifier) return Error("expected a macro name after 'call'");
  auto call = MakeExpr(ExprKind::kCall, line);
  call->children.push_back(std::move(callee));
  RETURN_IF_ERROR(ParseArgs(/*parameters=*/false, call->children));
  s->expr = std::move(call);
  RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
  RETURN_IF_ERROR(ParseBody({"endcall"}, line, "call", s->body));
  RETURN_IF_ERROR(ExpectEnd("endcall"));
  SpecialArgsVisitor visitor(s->params);
  visitor.Visit(s->body);
  s->uses_kwargs = visitor.kwargs;
  s->uses_varargs = visitor.varargs;
  return s;
}

absl::StatusOr<StmtPtr> Parser::ParseFilterBlock(int line) {
  auto s = MakeStmt(StmtKind::kFilterBlock, line);
  auto filter = MakeExpr(ExprKind::kFilter, line);
  filter->children.push_back(nullptr);  // The operand is the rendered body.
  ASSIGN_OR_RETURN(ExprPtr node, ParsePrimary());
  if (node->kind != ExprKind::kIdentifier) {
    filter->malformed = true;
  } else {
    filter->name = node->name;
    if (Is(TokenType::kOpenParen)) {
      const size_t mark = cur_;
      filter->flag = true;
      RETURN_IF_ERROR(ParseArgs(/*parameters=*/false, filter->children));
      if (Is(TokenType::kDot) || Is(TokenType::kOpenSquareBracket) || Is(TokenType::kOpenParen)) {
        cur_ = mark;
        ASSIGN_OR_RETURN(ExprPtr ignored, ParseCall(std::move(node)));
        filter->malformed = true;
      }
    }
  }
  s->expr = std::move(filter);
  RETURN_IF_ERROR(Expect(TokenType::kCloseStatement, "'%}'"));
  RETURN_IF_ERROR(ParseBody({"endfilter"}, line, "filter", s->body));
  RETURN_IF_ERROR(ExpectEnd("endfilter"));
  return s;
}


}  // namespace parser_internal

absl::StatusOr<Program> Parse(std::vector<Token> tokens) {
  parser_internal::Parser parser(std::move(tokens));
  return parser.Run();
}

}  // namespace sllm::tokenizer::jinja
