// Expression evaluation: names, literals, members and slices, calls, operators.
#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/builtins.h"
#include "services/tokenizer/jinja/interpreter.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {
namespace {

// JS numbers hold integers exactly up to 2^53; larger integer results are refused rather than
// printed differently from the reference.
constexpr double kMaxExactInt = 9007199254740992.0;

absl::string_view OpName(Op op) {
  switch (op) {
    case Op::kAnd: return "and";
    case Op::kOr: return "or";
    case Op::kNot: return "not";
    case Op::kEq: return "==";
    case Op::kNe: return "!=";
    case Op::kLt: return "<";
    case Op::kGt: return ">";
    case Op::kLe: return "<=";
    case Op::kGe: return ">=";
    case Op::kIn: return "in";
    case Op::kNotIn: return "not in";
    case Op::kAdd: return "+";
    case Op::kSub: return "-";
    case Op::kConcat: return "~";
    case Op::kMul: return "*";
    case Op::kDiv: return "/";
    case Op::kFloorDiv: return "//";
    case Op::kMod: return "%";
    case Op::kPow: return "**";
    case Op::kNeg: return "-";
    case Op::kPos: return "+";
    case Op::kNone: break;
  }
  return "?";
}

// `object[property]` / `object.property` as the reference's evaluateMemberExpression.
absl::StatusOr<Value> GetMember(const Value& object, const Value& property, int line) {
  if (object.is_mapping_like()) {
    if (!property.is_string()) {
      return LineError(line, absl::StrCat("Cannot access property with non-string: got ",
                                          property.TypeName()));
    }
    if (const Value* v = object.object().Find(property.str())) return *v;
    if (object.is_object() && IsObjectMethod(property.str())) {
      return BoundMethod(object, property.str());
    }
    return Value();
  }
  if (object.is_array() || object.is_string()) {
    if (property.is_int()) {
      if (object.is_string()) {
        std::optional<std::string> ch = Utf16At(object.str(), property.as_int());
        return ch ? Value::String(std::move(*ch)) : Value();
      }
      const auto& items = object.items();
      int64_t i = property.as_int();
      if (i < 0) i += static_cast<int64_t>(items.size());
      if (i < 0 || i >= static_cast<int64_t>(items.size())) return Value();
      return items[i];
    }
    if (property.is_string()) {
      if (property.str() == "length") {
        return Value::Int(object.is_string() ? Utf16Length(object.str())
                                             : static_cast<int64_t>(object.items().size()));
      }
      if (object.is_string() && IsStringMethod(property.str())) {
        return BoundMethod(object, property.str());
      }
      return Value();
    }
    return LineError(line, absl::StrCat("Cannot access property with non-string/non-number: got ",
                                        property.TypeName()));
  }
  if (!property.is_string()) {
    return LineError(line, absl::StrCat("Cannot access property with non-string: got ",
                                        property.TypeName()));
  }
  return Value();
}

// The reference's slice(): Python-like bounds, negative steps, no error on out-of-range.
std::vector<int64_t> SliceIndices(int64_t len, const Value& start_v, const Value& stop_v,
                                  const Value& step_v) {
  const int64_t step = step_v.is_int() ? step_v.as_int() : 1;
  const int direction = step > 0 ? 1 : step < 0 ? -1 : 0;
  int64_t start, stop;
  if (direction >= 0) {
    start = start_v.is_int() ? start_v.as_int() : 0;
    start = start < 0 ? std::max<int64_t>(len + start, 0) : std::min(start, len);
    stop = stop_v.is_int() ? stop_v.as_int() : len;
    stop = stop < 0 ? std::max<int64_t>(len + stop, 0) : std::min(stop, len);
  } else {
    start = start_v.is_int() ? start_v.as_int() : len - 1;
    start = start < 0 ? std::max<int64_t>(len + start, -1) : std::min(start, len - 1);
    stop = stop_v.is_int() ? stop_v.as_int() : -1;
    stop = stop < -1 ? std::max<int64_t>(len + stop, -1) : std::min(stop, len - 1);
  }
  std::vector<int64_t> out;
  for (int64_t i = start; direction * i < direction * stop;) {
    out.push_back(i);
    if (__builtin_add_overflow(i, step, &i)) break;  // A step past the int64 range ends it.
  }
  return out;
}

// An integer result that JS holds exactly (|v| <= 2^53), else an error.
absl::StatusOr<Value> IntResult(int64_t value, int line) {
  if (std::fabs(static_cast<double>(value)) > kMaxExactInt) {
    return LineError(line, "integer result out of range");
  }
  return Value::Int(value);
}

absl::StatusOr<Value> Arithmetic(Op op, const Value& l, const Value& r, int line) {
  const bool is_float = l.is_float() || r.is_float();
  const double a = l.as_double(), b = r.as_double();
  if (op == Op::kDiv) return Value::Float(a / b);
  if (is_float) {
    switch (op) {
      case Op::kAdd: return Value::Float(a + b);
      case Op::kSub: return Value::Float(a - b);
      case Op::kMul: return Value::Float(a * b);
      case Op::kFloorDiv: return Value::Float(std::floor(a / b));
      case Op::kMod: return Value::Float(std::fmod(a, b));
      default: break;
    }
  }
  const int64_t x = l.as_int(), y = r.as_int();
  int64_t res = 0;
  switch (op) {
    case Op::kAdd:
      if (__builtin_add_overflow(x, y, &res)) return LineError(line, "integer overflow");
      return IntResult(res, line);
    case Op::kSub:
      if (__builtin_sub_overflow(x, y, &res)) return LineError(line, "integer overflow");
      return IntResult(res, line);
    case Op::kMul:
      if (__builtin_mul_overflow(x, y, &res)) return LineError(line, "integer overflow");
      return IntResult(res, line);
    case Op::kFloorDiv:
    case Op::kMod: {
      if (y == 0) return LineError(line, "integer division or modulo by zero");
      if (x == INT64_MIN && y == -1) return LineError(line, "integer overflow");
      if (op == Op::kMod) return Value::Int(x % y);  // JS remainder: the sign of x.
      int64_t q = x / y;
      if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
      return Value::Int(q);
    }
    default:
      return LineError(line, "bad arithmetic operator");
  }
}

absl::StatusOr<Value> Power(const Value& l, const Value& r, int line) {
  const double a = l.as_double(), b = r.as_double();
  if (a == 0 && b < 0) return LineError(line, "0.0 cannot be raised to a negative power");
  const double result = std::pow(a, b);
  if (!std::isfinite(result)) {
    return LineError(line, "Exponentiation result is not a finite real number");
  }
  if (l.is_float() || r.is_float() || b < 0) return Value::Float(result);
  if (std::fabs(result) > kMaxExactInt) return LineError(line, "integer result out of range");
  return Value::Int(static_cast<int64_t>(result));
}

}  // namespace

absl::StatusOr<Value> Interpreter::Eval(const Expr& e, Scope& scope) {
  switch (e.kind) {
    case ExprKind::kLiteral:
      return e.literal;
    case ExprKind::kIdentifier: {
      const Value* v = scope.Lookup(e.name);
      return v != nullptr ? *v : Value();
    }
    case ExprKind::kArray:
    case ExprKind::kTuple: {
      std::vector<Value> items;
      items.reserve(e.children.size());
      for (const auto& c : e.children) {
        ASSIGN_OR_RETURN(Value v, Eval(*c, scope));
        items.push_back(std::move(v));
      }
      return Value::Array(std::move(items), e.kind == ExprKind::kTuple);
    }
    case ExprKind::kObject:
      return EvalObject(e, scope);
    case ExprKind::kMember:
      return EvalMember(e, scope);
    case ExprKind::kCall:
      return EvalCall(e, scope);
    case ExprKind::kUnary:
      return EvalUnary(e, scope);
    case ExprKind::kBinary:
      return EvalBinary(e, scope);
    case ExprKind::kFilter: {
      ASSIGN_OR_RETURN(Value operand, Eval(*e.children[0], scope));
      return ApplyFilter(operand, e, scope);
    }
    case ExprKind::kTest: {
      ASSIGN_OR_RETURN(Value operand, Eval(*e.children[0], scope));
      CallContext ctx{*this, scope, e.line};
      ASSIGN_OR_RETURN(bool result, ApplyTest(e.name, operand, nullptr, ctx));
      return Value::Bool(result != e.flag);
    }
    case ExprKind::kSelect: {
      ASSIGN_OR_RETURN(Value test, Eval(*e.children[1], scope));
      if (!Truthy(test)) return Value();
      return Eval(*e.children[0], scope);
    }
    case ExprKind::kTernary: {
      ASSIGN_OR_RETURN(Value cond, Eval(*e.children[0], scope));
      return Eval(*e.children[Truthy(cond) ? 1 : 2], scope);
    }
    default:
      return LineError(e.line, "unexpected expression here (keyword argument, unpacking or slice)");
  }
}

absl::StatusOr<Value> Interpreter::EvalObject(const Expr& e, Scope& scope) {
  auto obj = std::make_shared<ObjectData>();
  for (size_t i = 0; i + 1 < e.children.size(); i += 2) {
    ASSIGN_OR_RETURN(Value key, Eval(*e.children[i], scope));
    if (!key.is_string()) {
      return LineError(e.line, absl::StrCat("Object keys must be strings: got ", key.TypeName()));
    }
    ASSIGN_OR_RETURN(Value value, Eval(*e.children[i + 1], scope));
    obj->Set(key.str(), std::move(value));
  }
  return Value::Object(std::move(obj));
}

absl::StatusOr<Value> Interpreter::EvalMember(const Expr& e, Scope& scope) {
  ASSIGN_OR_RETURN(Value object, Eval(*e.children[0], scope));
  if (!e.flag) return GetMember(object, e.literal, e.line);
  const Expr& prop = *e.children[1];
  if (prop.kind == ExprKind::kSlice) return EvalSlice(object, prop, scope);
  ASSIGN_OR_RETURN(Value property, Eval(prop, scope));
  return GetMember(object, property, e.line);
}

absl::StatusOr<Value> Interpreter::EvalSlice(const Value& object, const Expr& slice, Scope& scope) {
  if (!object.is_array() && !object.is_string()) {
    return LineError(slice.line, "Slice object must be an array or string");
  }
  Value parts[3];
  for (int i = 0; i < 3; ++i) {
    if (slice.children[i] == nullptr) continue;
    ASSIGN_OR_RETURN(parts[i], Eval(*slice.children[i], scope));
    if (!parts[i].is_int() && !parts[i].is_undefined()) {
      static const char* kNames[] = {"start", "stop", "step"};
      return LineError(slice.line, absl::StrCat("Slice ", kNames[i], " must be numeric or undefined"));
    }
  }
  if (object.is_array()) {
    const auto& items = object.items();
    std::vector<Value> out;
    for (int64_t i : SliceIndices(static_cast<int64_t>(items.size()), parts[0], parts[1], parts[2])) {
      out.push_back(items[i]);
    }
    return Value::Array(std::move(out));
  }
  const std::string& s = object.str();
  std::vector<absl::string_view> chars;  // Code points, as Array.from(string).
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    NextCodePoint(s, &pos);
    chars.push_back(absl::string_view(s).substr(start, pos - start));
  }
  std::string out;
  for (int64_t i : SliceIndices(static_cast<int64_t>(chars.size()), parts[0], parts[1], parts[2])) {
    absl::StrAppend(&out, chars[i]);
  }
  return Value::String(std::move(out));
}

absl::Status Interpreter::EvalArgs(const Expr& e, size_t first, Scope& scope,
                                   std::vector<Value>& args, Kwargs& kwargs) {
  for (size_t i = first; i < e.children.size(); ++i) {
    const Expr& c = *e.children[i];
    if (c.kind == ExprKind::kSpread) {
      ASSIGN_OR_RETURN(Value v, Eval(*c.children[0], scope));
      if (!v.is_array()) {
        return LineError(c.line, absl::StrCat("Cannot unpack non-iterable type: ", v.TypeName()));
      }
      args.insert(args.end(), v.items().begin(), v.items().end());
    } else if (c.kind != ExprKind::kKeywordArg && c.kind != ExprKind::kKeywordSpread) {
      ASSIGN_OR_RETURN(Value v, Eval(c, scope));
      args.push_back(std::move(v));
    }
  }
  auto add = [&](const std::string& key, Value v, int line) -> absl::Status {
    for (const auto& [k, unused] : kwargs) {
      if (k == key) {
        return LineError(line, absl::StrCat("Got multiple values for keyword argument '", key, "'"));
      }
    }
    kwargs.emplace_back(key, std::move(v));
    return absl::OkStatus();
  };
  for (size_t i = first; i < e.children.size(); ++i) {
    const Expr& c = *e.children[i];
    if (c.kind == ExprKind::kKeywordArg) {
      ASSIGN_OR_RETURN(Value v, Eval(*c.children[0], scope));
      RETURN_IF_ERROR(add(c.name, std::move(v), c.line));
    } else if (c.kind == ExprKind::kKeywordSpread) {
      ASSIGN_OR_RETURN(Value v, Eval(*c.children[0], scope));
      if (!v.is_object()) {
        return LineError(c.line, absl::StrCat("Argument after ** must be a mapping, not ",
                                              v.TypeName()));
      }
      for (const auto& [k, val] : v.object().entries) RETURN_IF_ERROR(add(k, val, c.line));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> Interpreter::CallValue(const Value& fn, std::vector<Value>& args,
                                             Scope& scope, int line) {
  if (!fn.is_function()) {
    return LineError(line, absl::StrCat("Cannot call something that is not a function: got ",
                                        fn.TypeName()));
  }
  CallContext ctx{*this, scope, line};
  absl::StatusOr<Value> result = fn.function().fn(ctx, args);
  if (!result.ok()) return WithLine(result.status(), line);
  return result;
}

absl::StatusOr<Value> Interpreter::EvalCall(const Expr& e, Scope& scope) {
  std::vector<Value> args;
  Kwargs kwargs;
  RETURN_IF_ERROR(EvalArgs(e, 1, scope, args, kwargs));
  if (!kwargs.empty()) args.push_back(KwargsObject(std::move(kwargs)));
  const Expr& callee = *e.children[0];
  if (callee.kind == ExprKind::kMember && !callee.flag && callee.literal.is_string()) {
    // A method call: dispatch without materializing a bound function value.
    ASSIGN_OR_RETURN(Value object, Eval(*callee.children[0], scope));
    const std::string& name = callee.literal.str();
    CallContext ctx{*this, scope, e.line};
    if (object.is_string() && IsStringMethod(name)) {
      absl::StatusOr<Value> r = CallStringMethod(object, name, args, ctx);
      if (!r.ok()) return WithLine(r.status(), e.line);
      return r;
    }
    if (object.is_object() && IsObjectMethod(name) && object.object().Find(name) == nullptr) {
      absl::StatusOr<Value> r = CallObjectMethod(object, name, args, ctx);
      if (!r.ok()) return WithLine(r.status(), e.line);
      return r;
    }
    ASSIGN_OR_RETURN(Value fn, GetMember(object, callee.literal, callee.line));
    return CallValue(fn, args, scope, e.line);
  }
  ASSIGN_OR_RETURN(Value fn, Eval(callee, scope));
  return CallValue(fn, args, scope, e.line);
}

absl::StatusOr<Value> Interpreter::EvalUnary(const Expr& e, Scope& scope) {
  ASSIGN_OR_RETURN(Value v, Eval(*e.children[0], scope));
  if (e.op == Op::kNot) return Value::Bool(!Truthy(v));
  if (!v.is_number() && !v.is_bool()) {
    return LineError(e.line, absl::StrCat("Unknown operator \"", OpName(e.op), "\" for ",
                                          v.TypeName()));
  }
  if (e.op == Op::kPos) return v.is_float() ? v : Value::Int(v.is_bool() ? v.as_bool() : v.as_int());
  if (v.is_float()) return Value::Float(-v.as_float());
  const int64_t i = v.is_bool() ? v.as_bool() : v.as_int();
  if (i == INT64_MIN) return LineError(e.line, "integer overflow");
  return Value::Int(-i);
}

absl::StatusOr<Value> Interpreter::EvalBinary(const Expr& e, Scope& scope) {
  ASSIGN_OR_RETURN(Value left, Eval(*e.children[0], scope));
  if (e.op == Op::kAnd) return Truthy(left) ? Eval(*e.children[1], scope) : left;
  if (e.op == Op::kOr) return Truthy(left) ? left : Eval(*e.children[1], scope);
  ASSIGN_OR_RETURN(Value right, Eval(*e.children[1], scope));
  const Op op = e.op;
  if (op == Op::kEq || op == Op::kNe) {
    absl::StatusOr<bool> eq = LooseEquals(left, right);
    if (!eq.ok()) return WithLine(eq.status(), e.line);
    return Value::Bool(*eq == (op == Op::kEq));
  }
  const bool membership = op == Op::kIn || op == Op::kNotIn;
  if (left.is_undefined() || right.is_undefined()) {
    if (right.is_undefined() && membership) return Value::Bool(op == Op::kNotIn);
    return LineError(e.line, absl::StrCat("Cannot perform operation ", OpName(op),
                                          " on undefined values"));
  }
  if (left.is_null() || right.is_null()) {
    return LineError(e.line, "Cannot perform operation on null values");
  }
  if (op == Op::kConcat) {
    std::string s;
    RETURN_IF_ERROR(WithLine(AppendJsString(left, s), e.line));
    RETURN_IF_ERROR(WithLine(AppendJsString(right, s), e.line));
    RETURN_IF_ERROR(CheckSize(s.size(), e.line));
    return Value::String(std::move(s));
  }
  const bool left_num = left.is_number() || left.is_bool();
  const bool right_num = right.is_number() || right.is_bool();
  if (op == Op::kPow && left_num && right_num) return Power(left, right, e.line);
  if (left.is_number() && right.is_number()) {
    switch (op) {
      case Op::kAdd: case Op::kSub: case Op::kMul: case Op::kDiv: case Op::kFloorDiv: case Op::kMod:
        return Arithmetic(op, left, right, e.line);
      case Op::kLt: case Op::kGt: case Op::kLe: case Op::kGe: {
        const bool ints = left.is_int() && right.is_int();
        const int c = ints ? (left.as_int() < right.as_int() ? -1 : left.as_int() > right.as_int())
                           : 0;
        const double a = left.as_double(), b = right.as_double();
        if (op == Op::kLt) return Value::Bool(ints ? c < 0 : a < b);
        if (op == Op::kGt) return Value::Bool(ints ? c > 0 : a > b);
        if (op == Op::kLe) return Value::Bool(ints ? c <= 0 : a <= b);
        return Value::Bool(ints ? c >= 0 : a >= b);
      }
      default:
        break;
    }
  } else if (left.is_array() && right.is_array()) {
    if (op == Op::kAdd) {
      RETURN_IF_ERROR(Step(e.line, static_cast<int64_t>(left.items().size() + right.items().size())));
      std::vector<Value> items = left.items();
      items.insert(items.end(), right.items().begin(), right.items().end());
      return Value::Array(std::move(items));
    }
  } else if (right.is_array() && membership) {
    bool found = false;
    for (const Value& item : right.items()) {
      if (StrictEquals(item, left)) {
        found = true;
        break;
      }
    }
    return Value::Bool(found == (op == Op::kIn));
  }
  if ((left.is_string() || right.is_string()) && op == Op::kAdd) {
    std::string s;
    RETURN_IF_ERROR(WithLine(AppendJsString(left, s), e.line));
    RETURN_IF_ERROR(WithLine(AppendJsString(right, s), e.line));
    RETURN_IF_ERROR(CheckSize(s.size(), e.line));
    return Value::String(std::move(s));
  }
  if (left.is_string() && right.is_string() && membership) {
    const bool found = right.str().find(left.str()) != std::string::npos;
    return Value::Bool(found == (op == Op::kIn));
  }
  if (left.is_string() && right.is_object() && membership) {
    const bool found = right.object().Find(left.str()) != nullptr;
    return Value::Bool(found == (op == Op::kIn));
  }
  return LineError(e.line, absl::StrCat("Unknown operator \"", OpName(op), "\" between ",
                                        left.TypeName(), " and ", right.TypeName()));
}

}  // namespace sllm::tokenizer::jinja
