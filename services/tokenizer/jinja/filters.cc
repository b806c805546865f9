// Filters (`x | name` and `x | name(args)`), with the reference's applyFilter dispatch: which
// filters exist depends on the operand's type, and the bare and called forms differ.
#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/builtins.h"
#include "services/tokenizer/jinja/interpreter.h"
#include "services/tokenizer/jinja/json.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {
namespace {

absl::Status FilterError(const Expr& f, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("template line ", f.line, ": ", message));
}

absl::Status CannotApply(const Expr& f, const Value& operand) {
  return FilterError(f, absl::StrCat("Cannot apply filter \"", f.name, "\" to type: ",
                                     operand.TypeName()));
}

const Value* FindKwarg(const Kwargs& kwargs, absl::string_view key) {
  for (const auto& [k, v] : kwargs) {
    if (k == key) return &v;
  }
  return nullptr;
}

// args[i] ?? kwargs[key] ?? fallback.
Value Option(const std::vector<Value>& args, size_t i, const Kwargs& kwargs, absl::string_view key,
             Value fallback) {
  if (i < args.size()) return args[i];
  if (const Value* v = FindKwarg(kwargs, key)) return *v;
  return fallback;
}

// Python's list(str): the code points.
std::vector<std::string> CodePoints(const std::string& s) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < s.size();) {
    const size_t start = pos;
    NextCodePoint(s, &pos);
    out.push_back(s.substr(start, pos - start));
  }
  return out;
}

// Array.prototype.join over the raw values of `items`.
absl::StatusOr<std::string> JoinValues(const std::vector<Value>& items, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += sep;
    RETURN_IF_ERROR(AppendJsString(items[i], out, /*in_join=*/true));
  }
  return out;
}

std::string Indent(const std::string& s, const std::string& indent, bool first, bool blank) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0;; ++i) {
    const size_t nl = s.find('\n', start);
    const absl::string_view line =
        absl::string_view(s).substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    if (i > 0) out += '\n';
    if (!((!first && i == 0) || (!blank && line.empty()))) out += indent;
    absl::StrAppend(&out, line);
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

// Same-value-zero equality on raw values (JS Set membership).
bool SameValueZero(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number() && std::isnan(a.as_double()) && std::isnan(b.as_double())) {
    return true;
  }
  return StrictEquals(a, b);
}

absl::StatusOr<Value> SortArray(const Value& operand, bool reverse, bool case_sensitive,
                                const Value& attribute, const Expr& f) {
  std::vector<Value> items = operand.items();
  std::string path;
  if (attribute.is_string()) path = attribute.str();
  if (attribute.is_int()) path = std::to_string(attribute.as_int());
  const bool by_attribute = !attribute.is_null();
  absl::Status error;
  std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
    if (!error.ok()) return false;
    absl::StatusOr<int> c =
        by_attribute ? CompareValues(GetAttributePath(a, path), GetAttributePath(b, path), case_sensitive)
                     : CompareValues(a, b, case_sensitive);
    if (!c.ok()) {
      error = c.status();
      return false;
    }
    return reverse ? *c > 0 : *c < 0;
  });
  if (!error.ok()) return FilterError(f, error.message());
  return Value::Array(std::move(items));
}

absl::StatusOr<Value> BareArrayFilter(const Value& operand, const Expr& f) {
  const auto& items = operand.items();
  const std::string& name = f.name;
  if (name == "list") return operand;
  if (name == "first" || name == "last") {
    if (items.empty()) return FilterError(f, absl::StrCat("'", name, "' of an empty list"));
    return name == "first" ? items.front() : items.back();
  }
  if (name == "length") return Value::Int(static_cast<int64_t>(items.size()));
  if (name == "reverse") return Value::Array(std::vector<Value>(items.rbegin(), items.rend()));
  if (name == "sort") return SortArray(operand, false, false, Value::Null(), f);
  if (name == "join") {
    absl::StatusOr<std::string> s = JoinValues(items, "");
    if (!s.ok()) return FilterError(f, s.status().message());
    return Value::String(std::move(*s));
  }
  if (name == "string") {
    std::string out;
    JsonOptions options;
    options.undefined_as_null = false;
    absl::Status st = AppendJson(operand, options, out);
    if (!st.ok()) return FilterError(f, st.message());
    return Value::String(std::move(out));
  }
  if (name == "unique") {
    std::vector<Value> out;
    for (const Value& item : items) {
      bool seen = false;
      for (const Value& o : out) seen = seen || SameValueZero(o, item);
      if (!seen) out.push_back(item);
    }
    return Value::Array(std::move(out));
  }
  return FilterError(f, absl::StrCat("Unknown ArrayValue filter: ", name));
}

absl::StatusOr<Value> BareStringFilter(const Value& operand, const Expr& f) {
  const std::string& s = operand.str();
  const std::string& name = f.name;
  if (name == "length") return Value::Int(Utf16Length(s));
  if (name == "upper") return Value::String(JsToUpper(s));
  if (name == "lower") return Value::String(JsToLower(s));
  if (name == "title") return Value::String(TitleCase(s));
  if (name == "capitalize") return Value::String(Capitalize(s));
  if (name == "trim") return Value::String(std::string(JsTrim(s)));
  if (name == "indent") return Value::String(Indent(s, "    ", false, false));
  if (name == "join" || name == "string") return operand;
  if (name == "int") {
    std::optional<double> v = JsParseInt(s);
    if (v && std::fabs(*v) > 9007199254740992.0) return FilterError(f, "integer out of range");
    return Value::Int(v ? static_cast<int64_t>(*v) : 0);
  }
  if (name == "float") return Value::Float(JsParseFloat(s).value_or(0.0));
  return FilterError(f, absl::StrCat("Unknown StringValue filter: ", name));
}

absl::StatusOr<Value> BareNumberFilter(const Value& operand, const Expr& f) {
  const std::string& name = f.name;
  if (name == "abs") {
    if (operand.is_float()) return Value::Float(std::fabs(operand.as_float()));
    if (operand.as_int() == INT64_MIN) return FilterError(f, "integer overflow");
    return Value::Int(std::abs(operand.as_int()));
  }
  if (name == "int") {
    if (operand.is_int()) return operand;
    const double d = std::floor(operand.as_float());
    if (!std::isfinite(d) || std::fabs(d) > 9007199254740992.0) {
      return FilterError(f, "integer out of range");
    }
    return Value::Int(static_cast<int64_t>(d));
  }
  if (name == "float") return Value::Float(operand.as_double());
  if (name == "string") {
    absl::StatusOr<std::string> s = OutputString(operand);
    if (!s.ok()) return FilterError(f, s.status().message());
    return Value::String(std::move(*s));
  }
  return FilterError(f, absl::StrCat("Unknown NumericValue filter: ", name));
}

absl::StatusOr<Value> BareBoolFilter(const Value& operand, const Expr& f) {
  const bool b = operand.as_bool();
  if (f.name == "bool") return operand;
  if (f.name == "int") return Value::Int(b ? 1 : 0);
  if (f.name == "float") return Value::Float(b ? 1.0 : 0.0);
  if (f.name == "string") return Value::String(b ? "true" : "false");
  return FilterError(f, absl::StrCat("Unknown BooleanValue filter: ", f.name));
}

}  // namespace

absl::StatusOr<Value> Interpreter::ApplyFilter(const Value& operand, const Expr& f, Scope& scope) {
  if (f.malformed) return FilterError(f, "Unknown filter: the filter is not a name or a call");
  if (f.flag) return ApplyCalledFilter(operand, f, scope);
  if (f.name == "safe") return operand;
  if (f.name == "tojson") {
    std::string out;
    absl::Status st = AppendJson(operand, JsonOptions(), out);
    if (!st.ok()) return FilterError(f, st.message());
    RETURN_IF_ERROR(CheckSize(out.size(), f.line));
    return Value::String(std::move(out));
  }
  if (operand.is_array()) return BareArrayFilter(operand, f);
  if (operand.is_string()) return BareStringFilter(operand, f);
  if (operand.is_number()) return BareNumberFilter(operand, f);
  if (operand.is_bool()) return BareBoolFilter(operand, f);
  if (operand.is_object()) {
    if (f.name == "length") return Value::Int(static_cast<int64_t>(operand.object().size()));
    if (IsObjectMethod(f.name)) {
      std::vector<Value> no_args;
      CallContext ctx{*this, scope, f.line};
      return CallObjectMethod(operand, f.name, no_args, ctx);
    }
    return FilterError(f, absl::StrCat("Unknown ObjectValue filter: ", f.name));
  }
  return CannotApply(f, operand);
}

absl::StatusOr<Value> Interpreter::ApplyCalledFilter(const Value& operand, const Expr& f,
                                                     Scope& scope) {
  const std::string& name = f.name;
  std::vector<Value> args;
  Kwargs kwargs;
  CallContext ctx{*this, scope, f.line};
  if (name == "selectattr" || name == "rejectattr") {
    if (operand.is_array()) return FilterSelectAttr(operand, f, scope);
  }
  if (name == "sort" && operand.is_array()) return FilterArray(operand, f, scope);
  if (name == "map" && operand.is_array()) return FilterArray(operand, f, scope);
  RETURN_IF_ERROR(EvalArgs(f, 1, scope, args, kwargs));
  if (name == "tojson") {
    JsonOptions options;
    const Value* indent = FindKwarg(kwargs, "indent");
    if (indent != nullptr && !indent->is_int() && !indent->is_null()) {
      return FilterError(f, "If set, indent must be a number");
    }
    if (indent != nullptr && indent->is_int()) options.indent = indent->as_int();
    const Value* ascii = FindKwarg(kwargs, "ensure_ascii");
    if (ascii != nullptr && !ascii->is_bool()) return FilterError(f, "If set, ensure_ascii must be a boolean");
    options.ensure_ascii = ascii != nullptr && ascii->as_bool();
    const Value* sort = FindKwarg(kwargs, "sort_keys");
    if (sort != nullptr && !sort->is_bool()) return FilterError(f, "If set, sort_keys must be a boolean");
    options.sort_keys = sort != nullptr && sort->as_bool();
    const Value* seps = FindKwarg(kwargs, "separators");
    if (seps != nullptr && seps->is_array()) {
      const auto& s = seps->items();
      if (s.size() != 2 || !s[0].is_string() || !s[1].is_string()) {
        return FilterError(f, "separators must be a tuple of two strings");
      }
      options.separators = std::make_pair(s[0].str(), s[1].str());
    } else if (seps != nullptr && !seps->is_null()) {
      return FilterError(f, "If set, separators must be a tuple of two strings");
    }
    std::string out;
    absl::Status st = AppendJson(operand, options, out);
    if (!st.ok()) return FilterError(f, st.message());
    RETURN_IF_ERROR(CheckSize(out.size(), f.line));
    return Value::String(std::move(out));
  }
  if (name == "join") {
    if (!operand.is_string() && !operand.is_array()) return CannotApply(f, operand);
    const Value sep = Option(args, 0, kwargs, "separator", Value::String(""));
    if (!sep.is_string()) return FilterError(f, "separator must be a string");
    std::string out;
    if (operand.is_string()) {
      const std::vector<std::string> chars = CodePoints(operand.str());
      for (size_t i = 0; i < chars.size(); ++i) {
        if (i > 0) out += sep.str();
        out += chars[i];
      }
    } else {
      absl::StatusOr<std::string> s = JoinValues(operand.items(), sep.str());
      if (!s.ok()) return FilterError(f, s.status().message());
      out = std::move(*s);
    }
    RETURN_IF_ERROR(CheckSize(out.size(), f.line));
    return Value::String(std::move(out));
  }
  if (name == "int" || name == "float") {
    const bool to_int = name == "int";
    const Value fallback = Option(args, 0, kwargs, "default", to_int ? Value::Int(0) : Value::Float(0));
    if (operand.is_string()) {
      std::optional<double> v = to_int ? JsParseInt(operand.str()) : JsParseFloat(operand.str());
      if (!v) return fallback;
      if (!to_int) return Value::Float(*v);
      if (std::fabs(*v) > 9007199254740992.0) return FilterError(f, "integer out of range");
      return Value::Int(static_cast<int64_t>(*v));
    }
    if (operand.is_number()) return operand;
    if (operand.is_bool()) {
      return to_int ? Value::Int(operand.as_bool()) : Value::Float(operand.as_bool() ? 1 : 0);
    }
    return CannotApply(f, operand);
  }
  if (name == "default") {
    const Value fallback = !args.empty() ? args[0] : Value::String("");
    const Value boolean = Option(args, 1, kwargs, "boolean", Value::Bool(false));
    if (!boolean.is_bool()) return FilterError(f, "`default` filter flag must be a boolean");
    if (operand.is_undefined() || (boolean.as_bool() && !Truthy(operand))) return fallback;
    return operand;
  }
  if (operand.is_array()) {
    return FilterError(f, absl::StrCat("Unknown ArrayValue filter: ", name));
  }
  if (operand.is_string()) {
    if (name == "indent") {
      const Value width = Option(args, 0, kwargs, "width", Value::Int(4));
      if (!width.is_int()) return FilterError(f, "width must be a number");
      if (width.as_int() < 0) return FilterError(f, "Invalid count value: negative indent width");
      const Value first = Option(args, 1, kwargs, "first", Value::Bool(false));
      const Value blank = Option(args, 2, kwargs, "blank", Value::Bool(false));
      const size_t lines = std::count(operand.str().begin(), operand.str().end(), '\n') + 1;
      RETURN_IF_ERROR(CheckSize(operand.str().size() + lines * static_cast<size_t>(std::min<int64_t>(
                                    width.as_int(), options_.max_output_bytes + 1)), f.line));
      return Value::String(Indent(operand.str(), std::string(width.as_int(), ' '),
                                  RawTruthy(first), RawTruthy(blank)));
    }
    if (name == "replace") {
      // The reference always passes a (possibly empty) keyword bundle here.
      args.push_back(KwargsObject(std::move(kwargs)));
      return CallStringMethod(operand, "replace", args, ctx);
    }
    return FilterError(f, absl::StrCat("Unknown StringValue filter: ", name));
  }
  if (operand.is_object()) {
    if (IsObjectMethod(name)) {
      if (!kwargs.empty()) args.push_back(KwargsObject(std::move(kwargs)));
      return CallObjectMethod(operand, name, args, ctx);
    }
    return FilterError(f, absl::StrCat("Unknown ObjectValue filter: ", name));
  }
  return CannotApply(f, operand);
}

absl::StatusOr<Value> Interpreter::FilterArray(const Value& operand, const Expr& f, Scope& scope) {
  std::vector<Value> args;
  Kwargs kwargs;
  RETURN_IF_ERROR(EvalArgs(f, 1, scope, args, kwargs));
  if (f.name == "sort") {
    const Value reverse = Option(args, 0, kwargs, "reverse", Value::Bool(false));
    if (!reverse.is_bool()) return FilterError(f, "reverse must be a boolean");
    const Value case_sensitive = Option(args, 1, kwargs, "case_sensitive", Value::Bool(false));
    if (!case_sensitive.is_bool()) return FilterError(f, "case_sensitive must be a boolean");
    const Value attribute = Option(args, 2, kwargs, "attribute", Value::Null());
    if (!attribute.is_string() && !attribute.is_int() && !attribute.is_null()) {
      return FilterError(f, "attribute must be a string, integer, or null");
    }
    return SortArray(operand, reverse.as_bool(), case_sensitive.as_bool(), attribute, f);
  }
  // map(attribute=...[, default=...])
  const Value* attribute = FindKwarg(kwargs, "attribute");
  if (attribute == nullptr) {
    return FilterError(f, "`map` expressions without `attribute` set are not currently supported.");
  }
  if (!attribute->is_string()) return FilterError(f, "attribute must be a string");
  const Value* fallback = FindKwarg(kwargs, "default");
  std::vector<Value> out;
  for (const Value& item : operand.items()) {
    if (!item.is_mapping_like()) return FilterError(f, "items in map must be an object");
    Value v = GetAttributePath(item, attribute->str());
    out.push_back(v.is_undefined() && fallback != nullptr ? *fallback : std::move(v));
  }
  return Value::Array(std::move(out));
}

absl::StatusOr<Value> Interpreter::FilterSelectAttr(const Value& operand, const Expr& f,
                                                    Scope& scope) {
  const bool select = f.name == "selectattr";
  for (const Value& item : operand.items()) {
    if (!item.is_mapping_like()) {
      return FilterError(f, absl::StrCat("`", f.name, "` can only be applied to array of objects"));
    }
  }
  std::vector<Value> args;
  for (size_t i = 1; i < f.children.size(); ++i) {
    const Expr& c = *f.children[i];
    if (c.kind != ExprKind::kLiteral || !c.literal.is_string()) {
      return FilterError(f, absl::StrCat("arguments of `", f.name, "` must be strings"));
    }
    args.push_back(c.literal);
  }
  if (args.size() > 1 && !IsKnownTest(args[1].str())) {
    return FilterError(f, absl::StrCat("Unknown test: ", args[1].str()));
  }
  CallContext ctx{*this, scope, f.line};
  std::vector<Value> out;
  for (const Value& item : operand.items()) {
    if (args.empty()) return FilterError(f, absl::StrCat("`", f.name, "` needs an attribute name"));
    const Value* a = item.object().Find(args[0].str());
    bool result = false;
    if (a != nullptr) {
      if (args.size() > 1) {
        ASSIGN_OR_RETURN(result, ApplyTest(args[1].str(), *a, args.size() > 2 ? &args[2] : nullptr, ctx));
      } else {
        result = Truthy(*a);
      }
    }
    if (result == select) out.push_back(item);
  }
  return Value::Array(std::move(out));
}

}  // namespace sllm::tokenizer::jinja
