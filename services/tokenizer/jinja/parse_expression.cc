// Expression parsing, lowest precedence first (see parser.h).
#include <cerrno>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/parser_impl.h"

namespace sllm::tokenizer::jinja::parser_internal {

absl::StatusOr<ExprPtr> Parser::ParseExpressionSequence(bool primary) {
  const int line = Line();
  std::vector<ExprPtr> items;
  ASSIGN_OR_RETURN(ExprPtr first, primary ? ParsePrimary() : ParseExpression());
  if (!Is(TokenType::kComma)) return first;
  items.push_back(std::move(first));
  while (true) {
    ++cur_;  // ,
    ASSIGN_OR_RETURN(ExprPtr next, primary ? ParsePrimary() : ParseExpression());
    items.push_back(std::move(next));
    if (!Is(TokenType::kComma)) break;
  }
  auto tuple = MakeExpr(ExprKind::kTuple, line);
  tuple->children = std::move(items);
  return tuple;
}

absl::StatusOr<ExprPtr> Parser::ParseExpression() {
  DepthGuard guard(*this);
  RETURN_IF_ERROR(guard.Check());
  const int line = Line();
  ASSIGN_OR_RETURN(ExprPtr a, ParseLogicalOr());
  if (!IsIdentifier("if")) return a;
  ++cur_;
  ASSIGN_OR_RETURN(ExprPtr test, ParseLogicalOr());
  if (IsIdentifier("else")) {
    ++cur_;
    ASSIGN_OR_RETURN(ExprPtr otherwise, ParseExpression());
    auto t = MakeExpr(ExprKind::kTernary, line);
    t->children.push_back(std::move(test));
    t->children.push_back(std::move(a));
    t->children.push_back(std::move(otherwise));
    return t;
  }
  auto s = MakeExpr(ExprKind::kSelect, line);
  s->children.push_back(std::move(a));
  s->children.push_back(std::move(test));
  return s;
}

absl::StatusOr<ExprPtr> Parser::ParseLogicalOr() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseLogicalAnd());
  while (IsIdentifier("or")) {
    const int line = Line();
    ++cur_;
    ASSIGN_OR_RETURN(ExprPtr right, ParseLogicalAnd());
    auto b = MakeExpr(ExprKind::kBinary, line);
    b->op = Op::kOr;
    b->children.push_back(std::move(left));
    b->children.push_back(std::move(right));
    left = std::move(b);
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseLogicalAnd() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseLogicalNot());
  while (IsIdentifier("and")) {
    const int line = Line();
    ++cur_;
    ASSIGN_OR_RETURN(ExprPtr right, ParseLogicalNot());
    auto b = MakeExpr(ExprKind::kBinary, line);
    b->op = Op::kAnd;
    b->children.push_back(std::move(left));
    b->children.push_back(std::move(right));
    left = std::move(b);
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseLogicalNot() {
  DepthGuard guard(*this);
  RETURN_IF_ERROR(guard.Check());
  ExprPtr result;
  // As the reference: each `not` replaces what an earlier one in the same loop parsed.
  while (IsIdentifier("not")) {
    const int line = Line();
    ++cur_;
    ASSIGN_OR_RETURN(ExprPtr arg, ParseLogicalNot());
    result = MakeExpr(ExprKind::kUnary, line);
    result->op = Op::kNot;
    result->children.push_back(std::move(arg));
  }
  if (result != nullptr) return result;
  return ParseComparison();
}

absl::StatusOr<ExprPtr> Parser::ParseComparison() {
  ASSIGN_OR_RETURN(ExprPtr left, ParseAdditive());
  while (true) {
    const int line = Line();
    Op op;
    if (IsIdentifier("not") && IsIdentifier("in", 1)) {
      op = Op::kNotIn;
      cur_ += 2;
    } else if (IsIdentifier("in")) {
      op = Op::kIn;
      ++cur_;
    } else if (Is(TokenType::kComparisonOperator)) {
      op = BinaryOp(Peek()->value);
      ++cur_;
    } else {
      break;
    }
    ASSIGN_OR_RETURN(ExprPtr right, ParseAdditive());
    auto b = MakeExpr(ExprKind::kBinary, line);
    b->op = op;
    b->children.push_back(std::move(left));
    b->children.push_back(std::move(right));
    left = std::move(b);
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::BinaryLoop(absl::StatusOr<ExprPtr> (Parser::*next)(),
                                           TokenType type) {
  ASSIGN_OR_RETURN(ExprPtr left, (this->*next)());
  while (Is(type)) {
    const int line = Line();
    const Op op = BinaryOp(Peek()->value);
    ++cur_;
    ASSIGN_OR_RETURN(ExprPtr right, (this->*next)());
    auto b = MakeExpr(ExprKind::kBinary, line);
    b->op = op;
    b->children.push_back(std::move(left));
    b->children.push_back(std::move(right));
    left = std::move(b);
  }
  return left;
}

absl::StatusOr<ExprPtr> Parser::ParseAdditive() {
  return BinaryLoop(&Parser::ParseMultiplicative, TokenType::kAdditiveOperator);
}

absl::StatusOr<ExprPtr> Parser::ParseMultiplicative() {
  return BinaryLoop(&Parser::ParsePower, TokenType::kMultiplicativeOperator);
}

absl::StatusOr<ExprPtr> Parser::ParsePower() {
  return BinaryLoop(&Parser::ParseTest, TokenType::kExponentiationOperator);
}

absl::StatusOr<ExprPtr> Parser::ParseTest() {
  ASSIGN_OR_RETURN(ExprPtr operand, ParseFilter());
  while (IsIdentifier("is")) {
    const int line = Line();
    ++cur_;
    const bool negate = IsIdentifier("not");
    if (negate) ++cur_;
    ASSIGN_OR_RETURN(ExprPtr test, ParsePrimary());
    if (test->kind != ExprKind::kIdentifier) return Error("expected a test name after 'is'");
    auto t = MakeExpr(ExprKind::kTest, line);
    t->flag = negate;
    t->name = test->name;
    t->children.push_back(std::move(operand));
    operand = std::move(t);
  }
  return operand;
}

absl::StatusOr<ExprPtr> Parser::ParseFilter() {
  ASSIGN_OR_RETURN(ExprPtr operand, ParseUnarySign());
  while (Is(TokenType::kPipe)) {
    const int line = Line();
    ++cur_;
    ASSIGN_OR_RETURN(ExprPtr name, ParsePrimary());
    if (name->kind != ExprKind::kIdentifier) return Error("expected a filter name after '|'");
    auto f = MakeExpr(ExprKind::kFilter, line);
    f->name = name->name;
    f->children.push_back(std::move(operand));
    if (Is(TokenType::kOpenParen)) {
      const size_t mark = cur_;
      f->flag = true;
      RETURN_IF_ERROR(ParseArgs(/*parameters=*/false, f->children));
      if (Is(TokenType::kDot) || Is(TokenType::kOpenSquareBracket) || Is(TokenType::kOpenParen)) {
        // `x | f(1).y` parses in the reference but cannot be applied.
        cur_ = mark;
        ASSIGN_OR_RETURN(ExprPtr ignored, ParseCall(std::move(name)));
        f->malformed = true;
      }
    }
    operand = std::move(f);
  }
  return operand;
}

absl::StatusOr<ExprPtr> Parser::ParseUnarySign() {
  DepthGuard guard(*this);
  RETURN_IF_ERROR(guard.Check());
  const Token* t = Peek();
  if (t != nullptr &&
      (t->type == TokenType::kUnaryOperator || t->type == TokenType::kAdditiveOperator) &&
      (t->value == "-" || t->value == "+")) {
    auto u = MakeExpr(ExprKind::kUnary, t->line);
    u->op = t->value == "-" ? Op::kNeg : Op::kPos;
    ++cur_;
    ASSIGN_OR_RETURN(ExprPtr arg, ParseUnarySign());
    u->children.push_back(std::move(arg));
    return u;
  }
  return ParseCallMember();
}

absl::StatusOr<ExprPtr> Parser::ParseCallMember() {
  ASSIGN_OR_RETURN(ExprPtr primary, ParsePrimary());
  ASSIGN_OR_RETURN(ExprPtr member, ParseMember(std::move(primary)));
  if (Is(TokenType::kOpenParen)) return ParseCall(std::move(member));
  return member;
}

absl::StatusOr<ExprPtr> Parser::ParseCall(ExprPtr callee) {
  DepthGuard guard(*this);
  RETURN_IF_ERROR(guard.Check());
  auto call = MakeExpr(ExprKind::kCall, Line());
  call->children.push_back(std::move(callee));
  RETURN_IF_ERROR(ParseArgs(/*parameters=*/false, call->children));
  ASSIGN_OR_RETURN(ExprPtr expr, ParseMember(std::move(call)));
  if (Is(TokenType::kOpenParen)) return ParseCall(std::move(expr));
  return expr;
}

absl::Status Parser::ParseArgs(bool parameters, std::vector<ExprPtr>& args) {
  RETURN_IF_ERROR(Expect(TokenType::kOpenParen, "'('"));
  std::set<std::string> names;
  bool saw_keyword = false;
  bool saw_spread = false;
  while (!Is(TokenType::kCloseParen)) {
    if (AtEnd()) return Error("unexpected end of template in an argument list");
    const int line = Line();
    const bool keyword_spread = Is(TokenType::kExponentiationOperator);
    const bool spread = Is(TokenType::kMultiplicativeOperator) && Peek()->value == "*";
    if (parameters && (keyword_spread || spread)) {
      return Error("argument unpacking is not allowed in parameter declarations");
    }
    if (keyword_spread) {
      ++cur_;
      auto e = MakeExpr(ExprKind::kKeywordSpread, line);
      ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
      e->children.push_back(std::move(value));
      args.push_back(std::move(e));
      if (Is(TokenType::kComma)) ++cur_;
      if (!Is(TokenType::kCloseParen)) return Error("'**' must be applied to the final argument");
      break;
    }
    ExprPtr arg;
    if (spread) {
      if (saw_spread) return Error("only one '*' argument unpacking is allowed");
      saw_spread = true;
      ++cur_;
      arg = MakeExpr(ExprKind::kSpread, line);
      ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
      arg->children.push_back(std::move(value));
    } else {
      ASSIGN_OR_RETURN(arg, ParseExpression());
      if (Is(TokenType::kEquals)) {
        ++cur_;
        if (arg->kind != ExprKind::kIdentifier) {
          return Error(parameters ? "expected an identifier for a parameter declaration"
                                  : "expected an identifier for a keyword argument");
        }
        auto kw = MakeExpr(ExprKind::kKeywordArg, line);
        kw->name = arg->name;
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
        kw->children.push_back(std::move(value));
        arg = std::move(kw);
      }
      if (parameters) {
        if (arg->kind != ExprKind::kIdentifier && arg->kind != ExprKind::kKeywordArg) {
          return Error("expected an identifier for a parameter declaration");
        }
        if (!names.insert(arg->name).second) {
          return Error(absl::StrCat("duplicate parameter name '", arg->name, "'"));
        }
      }
      if (arg->kind == ExprKind::kKeywordArg) {
        saw_keyword = true;
      } else if (saw_keyword) {
        return Error(parameters ? "non-default argument follows default argument"
                                : "positional arguments must come before keyword arguments");
      } else if (saw_spread) {
        return Error("positional arguments must not follow '*' argument unpacking");
      }
    }
    args.push_back(std::move(arg));
    if (Is(TokenType::kComma)) ++cur_;
  }
  RETURN_IF_ERROR(Expect(TokenType::kCloseParen, "')'"));
  return absl::OkStatus();
}

absl::StatusOr<ExprPtr> Parser::ParseSubscript(int line) {
  std::vector<ExprPtr> slices;
  bool is_slice = false;
  while (!Is(TokenType::kCloseSquareBracket)) {
    if (AtEnd()) return Error("unexpected end of template in '[...]'");
    if (Is(TokenType::kColon)) {
      slices.push_back(nullptr);
      ++cur_;
      is_slice = true;
    } else {
      ASSIGN_OR_RETURN(ExprPtr e, ParseExpression());
      slices.push_back(std::move(e));
      if (Is(TokenType::kColon)) {
        ++cur_;
        is_slice = true;
      }
    }
  }
  if (slices.empty()) return Error("expected an index or a slice in '[]'");
  if (!is_slice) return std::move(slices[0]);
  if (slices.size() > 3) return Error("a slice takes at most 3 parts (start:stop:step)");
  auto s = MakeExpr(ExprKind::kSlice, line);
  slices.resize(3);
  s->children = std::move(slices);
  return s;
}

absl::StatusOr<ExprPtr> Parser::ParseMember(ExprPtr object) {
  while (Is(TokenType::kDot) || Is(TokenType::kOpenSquareBracket)) {
    const int line = Line();
    const bool computed = Is(TokenType::kOpenSquareBracket);
    ++cur_;
    auto m = MakeExpr(ExprKind::kMember, line);
    m->flag = computed;
    m->children.push_back(std::move(object));
    if (computed) {
      ASSIGN_OR_RETURN(ExprPtr property, ParseSubscript(line));
      m->children.push_back(std::move(property));
      RETURN_IF_ERROR(Expect(TokenType::kCloseSquareBracket, "']'"));
    } else {
      ASSIGN_OR_RETURN(ExprPtr property, ParsePrimary());
      if (property->kind == ExprKind::kIdentifier) {
        m->literal = Value::String(property->name);
      } else if (property->kind == ExprKind::kLiteral && property->literal.is_int()) {
        m->literal = property->literal;
      } else {
        return Error("expected an identifier or an integer after '.'");
      }
    }
    object = std::move(m);
  }
  return object;
}

absl::StatusOr<ExprPtr> Parser::ParsePrimary() {
  if (AtEnd()) return Error("unexpected end of template in an expression");
  const Token& t = tokens_[cur_++];
  switch (t.type) {
    case TokenType::kNumericLiteral: {
      auto e = MakeExpr(ExprKind::kLiteral, t.line);
      if (t.value.find('.') != std::string::npos) {
        e->literal = Value::Float(std::strtod(t.value.c_str(), nullptr));
      } else {
        errno = 0;
        const long long v = std::strtoll(t.value.c_str(), nullptr, 10);
        if (errno == ERANGE) {
          --cur_;
          return Error(absl::StrCat("integer literal ", t.value, " is out of range"));
        }
        e->literal = Value::Int(v);
      }
      return e;
    }
    case TokenType::kStringLiteral: {
      std::string value = t.value;
      while (Is(TokenType::kStringLiteral)) value += tokens_[cur_++].value;
      auto e = MakeExpr(ExprKind::kLiteral, t.line);
      e->literal = Value::String(std::move(value));
      return e;
    }
    case TokenType::kIdentifier: {
      auto e = MakeExpr(ExprKind::kIdentifier, t.line);
      e->name = t.value;
      return e;
    }
    case TokenType::kOpenParen: {
      ASSIGN_OR_RETURN(ExprPtr e, ParseExpressionSequence(false));
      RETURN_IF_ERROR(Expect(TokenType::kCloseParen, "')'"));
      return e;
    }
    case TokenType::kOpenSquareBracket: {
      auto e = MakeExpr(ExprKind::kArray, t.line);
      while (!Is(TokenType::kCloseSquareBracket)) {
        if (AtEnd()) return Error("unexpected end of template in a list literal");
        ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
        e->children.push_back(std::move(item));
        if (Is(TokenType::kComma)) ++cur_;
      }
      ++cur_;
      return e;
    }
    case TokenType::kOpenCurlyBracket: {
      auto e = MakeExpr(ExprKind::kObject, t.line);
      while (!Is(TokenType::kCloseCurlyBracket)) {
        if (AtEnd()) return Error("unexpected end of template in a dict literal");
        ASSIGN_OR_RETURN(ExprPtr key, ParseExpression());
        RETURN_IF_ERROR(Expect(TokenType::kColon, "':' between key and value"));
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
        e->children.push_back(std::move(key));
        e->children.push_back(std::move(value));
        if (Is(TokenType::kComma)) ++cur_;
      }
      ++cur_;
      return e;
    }
    default:
      --cur_;
      return Error(absl::StrCat("unexpected '", t.value, "' in an expression"));
  }
}


}  // namespace sllm::tokenizer::jinja::parser_internal
