#include "services/tokenizer/jinja/builtins.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {
namespace {

// ---- String and mapping methods ------------------------------------------------------------

absl::StatusOr<Value> StringSplit(const std::string& s, std::vector<Value>& args,
                                  const CallContext& ctx) {
  const Value sep = args.size() > 0 ? args[0] : Value::Null();
  if (!sep.is_string() && !sep.is_null()) return ctx.Error("sep argument must be a string or null");
  const Value maxsplit_v = args.size() > 1 ? args[1] : Value::Int(-1);
  if (!maxsplit_v.is_int()) return ctx.Error("maxsplit argument must be a number");
  const int64_t maxsplit = maxsplit_v.as_int();
  std::vector<Value> parts;
  if (sep.is_null()) {
    // Runs of whitespace separate; no empty strings at either end.
    const absl::string_view text = JsTrimStart(s);
    size_t pos = 0;
    while (pos < text.size()) {
      const size_t start = pos;
      while (pos < text.size() && LeadingJsSpace(text.substr(pos)) == 0) {
        NextCodePoint(text, &pos);
      }
      if (maxsplit != -1 && static_cast<int64_t>(parts.size()) >= maxsplit) {
        parts.push_back(Value::String(std::string(text.substr(start))));
        break;
      }
      parts.push_back(Value::String(std::string(text.substr(start, pos - start))));
      pos += LeadingJsSpace(text.substr(pos));
    }
  } else {
    const std::string& delim = sep.str();
    if (delim.empty()) return ctx.Error("empty separator");
    std::vector<std::string> pieces;
    size_t start = 0;
    while (true) {
      const size_t at = s.find(delim, start);
      if (at == std::string::npos) break;
      pieces.push_back(s.substr(start, at - start));
      start = at + delim.size();
    }
    pieces.push_back(s.substr(start));
    if (maxsplit != -1 && static_cast<int64_t>(pieces.size()) > maxsplit) {
      const size_t keep = maxsplit < 0 ? 0 : static_cast<size_t>(maxsplit);
      std::string rest;
      for (size_t i = keep; i < pieces.size(); ++i) {
        if (i > keep) rest += delim;
        rest += pieces[i];
      }
      pieces.resize(keep);
      pieces.push_back(std::move(rest));
    }
    for (std::string& p : pieces) parts.push_back(Value::String(std::move(p)));
  }
  return Value::Array(std::move(parts));
}

absl::StatusOr<Value> StartsOrEndsWith(const std::string& s, std::vector<Value>& args,
                                       bool starts, const CallContext& ctx) {
  const char* name = starts ? "startswith" : "endswith";
  if (args.empty()) return ctx.Error(absl::StrCat(name, "() requires at least one argument"));
  auto test = [&](const std::string& p) {
    if (p.size() > s.size()) return false;
    return starts ? s.compare(0, p.size(), p) == 0 : s.compare(s.size() - p.size(), p.size(), p) == 0;
  };
  const Value& pattern = args[0];
  if (pattern.is_string()) return Value::Bool(test(pattern.str()));
  if (pattern.is_array()) {
    for (const Value& item : pattern.items()) {
      if (!item.is_string()) return ctx.Error(absl::StrCat(name, "() tuple elements must be strings"));
      if (test(item.str())) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  return ctx.Error(absl::StrCat(name, "() argument must be a string or tuple of strings"));
}

absl::StatusOr<Value> Dictsort(const Value& obj, std::vector<Value>& args, const CallContext& ctx) {
  std::vector<const Value*> positional;
  const ObjectData* kwargs = nullptr;
  for (const Value& a : args) {
    if (a.is_kwargs()) {
      kwargs = &a.object();
    } else {
      positional.push_back(&a);
    }
  }
  auto option = [&](size_t i, const char* key, Value fallback) {
    if (i < positional.size()) return *positional[i];
    if (kwargs != nullptr) {
      if (const Value* v = kwargs->Find(key)) return *v;
    }
    return fallback;
  };
  const Value case_sensitive = option(0, "case_sensitive", Value::Bool(false));
  if (!case_sensitive.is_bool()) return ctx.Error("case_sensitive must be a boolean");
  const Value by = option(1, "by", Value::String("key"));
  if (!by.is_string()) return ctx.Error("by must be a string");
  if (by.str() != "key" && by.str() != "value") return ctx.Error("by must be either 'key' or 'value'");
  const Value reverse = option(2, "reverse", Value::Bool(false));
  if (!reverse.is_bool()) return ctx.Error("reverse must be a boolean");
  const bool by_value = by.str() == "value";
  std::vector<std::pair<Value, Value>> items;
  for (const auto& [k, v] : obj.object().entries) items.emplace_back(Value::String(k), v);
  absl::Status error;
  std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
    if (!error.ok()) return false;
    absl::StatusOr<int> c = CompareValues(by_value ? a.second : a.first,
                                          by_value ? b.second : b.first, case_sensitive.as_bool());
    if (!c.ok()) {
      error = c.status();
      return false;
    }
    return reverse.as_bool() ? *c > 0 : *c < 0;
  });
  if (!error.ok()) return ctx.Error(error.message());
  std::vector<Value> out;
  for (auto& [k, v] : items) out.push_back(Value::Array({std::move(k), std::move(v)}));
  return Value::Array(std::move(out));
}

}  // namespace

bool IsKnownTest(absl::string_view name) {
  static const absl::string_view kNames[] = {
      "defined", "undefined", "none",  "string",  "boolean", "true",  "false",
      "number",  "integer",   "callable", "iterable", "mapping", "sequence", "lower",
      "upper",   "odd",       "even",  "equalto", "eq"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

absl::StatusOr<bool> ApplyTest(absl::string_view name, const Value& v, const Value* arg,
                               const CallContext& ctx) {
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_null();
  if (name == "string") return v.is_string();
  if (name == "boolean") return v.is_bool();
  if (name == "true") return v.is_bool() && v.as_bool();
  if (name == "false") return v.is_bool() && !v.as_bool();
  if (name == "number") return v.is_number();
  if (name == "integer") return v.is_int();
  if (name == "callable") return v.is_function();
  if (name == "iterable") return (v.is_array() && !v.is_tuple()) || v.is_string();
  if (name == "mapping") return v.is_object();
  if (name == "sequence") return v.is_array() || v.is_object() || v.is_string();
  if (name == "lower") return v.is_string() && v.str() == JsToLower(v.str());
  if (name == "upper") return v.is_string() && v.str() == JsToUpper(v.str());
  if (name == "odd" || name == "even") {
    if (!v.is_int()) return ctx.Error(absl::StrCat("cannot ", name, " on ", v.TypeName()));
    return (v.as_int() % 2 != 0) == (name == "odd");
  }
  if (name == "equalto" || name == "eq") {
    if (arg == nullptr) return ctx.Error(absl::StrCat("test '", name, "' needs a value to compare"));
    return StrictEquals(v, *arg);
  }
  return ctx.Error(absl::StrCat("Unknown test: ", name));
}

bool IsStringMethod(absl::string_view name) {
  static const absl::string_view kNames[] = {"upper",  "lower",  "strip",      "title",
                                            "capitalize", "rstrip", "lstrip", "startswith",
                                            "endswith", "split", "replace"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool IsObjectMethod(absl::string_view name) {
  return name == "get" || name == "items" || name == "keys" || name == "values" ||
         name == "dictsort";
}

absl::StatusOr<Value> CallStringMethod(const Value& sv, absl::string_view name,
                                       std::vector<Value>& args, CallContext& ctx) {
  const std::string& s = sv.str();
  if (name == "upper") return Value::String(JsToUpper(s));
  if (name == "lower") return Value::String(JsToLower(s));
  if (name == "strip") return Value::String(std::string(JsTrim(s)));
  if (name == "lstrip") return Value::String(std::string(JsTrimStart(s)));
  if (name == "rstrip") return Value::String(std::string(JsTrimEnd(s)));
  if (name == "title") return Value::String(TitleCase(s));
  if (name == "capitalize") return Value::String(Capitalize(s));
  if (name == "startswith") return StartsOrEndsWith(s, args, true, ctx);
  if (name == "endswith") return StartsOrEndsWith(s, args, false, ctx);
  if (name == "split") return StringSplit(s, args, ctx);
  if (name == "replace") {
    if (args.size() < 2) return ctx.Error("replace() requires at least two arguments");
    if (!args[0].is_string() || !args[1].is_string()) {
      return ctx.Error("replace() arguments must be strings");
    }
    Value count = Value::Null();
    if (args.size() > 2) {
      if (args[2].is_kwargs()) {
        const Value* c = args[2].object().Find("count");
        count = c != nullptr ? *c : Value::Null();
      } else {
        count = args[2];
      }
    }
    if (!count.is_int() && !count.is_null()) {
      return ctx.Error("replace() count argument must be a number or null");
    }
    std::string out = ReplaceAll(s, args[0].str(), args[1].str(), count.is_int() ? count.as_int() : -1);
    RETURN_IF_ERROR(ctx.interp.CheckSize(out.size(), ctx.line));
    return Value::String(std::move(out));
  }
  return ctx.Error(absl::StrCat("unknown string method '", name, "'"));
}

absl::StatusOr<Value> CallObjectMethod(const Value& obj, absl::string_view name,
                                       std::vector<Value>& args, CallContext& ctx) {
  const ObjectData& data = obj.object();
  if (name == "get") {
    if (args.empty() || !args[0].is_string()) {
      return ctx.Error(absl::StrCat("Object key must be a string: got ",
                                    args.empty() ? "undefined" : args[0].TypeName()));
    }
    if (const Value* v = data.Find(args[0].str())) return *v;
    return args.size() > 1 ? args[1] : Value::Null();
  }
  std::vector<Value> out;
  if (name == "items") {
    for (const auto& [k, v] : data.entries) out.push_back(Value::Array({Value::String(k), v}));
  } else if (name == "keys") {
    for (const auto& [k, v] : data.entries) out.push_back(Value::String(k));
  } else if (name == "values") {
    for (const auto& [k, v] : data.entries) out.push_back(v);
  } else if (name == "dictsort") {
    return Dictsort(obj, args, ctx);
  } else {
    return ctx.Error(absl::StrCat("unknown mapping method '", name, "'"));
  }
  return Value::Array(std::move(out));
}

Value BoundMethod(const Value& receiver, absl::string_view name) {
  std::string method(name);
  return Value::Function(method, [receiver, method](CallContext& ctx, std::vector<Value>& args) {
    return receiver.is_string() ? CallStringMethod(receiver, method, args, ctx)
                                : CallObjectMethod(receiver, method, args, ctx);
  });
}

absl::StatusOr<int> CompareValues(const Value& a, const Value& b, bool case_sensitive) {
  auto mismatch = [&](absl::string_view what) {
    return absl::InvalidArgumentError(
        absl::StrCat("Cannot compare ", what, a.TypeName(), " and ", b.TypeName()));
  };
  if (a.is_null() && b.is_null()) return 0;
  if (a.is_null() || b.is_null()) return mismatch("");
  if (a.is_undefined() && b.is_undefined()) return 0;
  if (a.is_undefined() || b.is_undefined()) return mismatch("");
  const bool a_num = a.is_number() || a.is_bool(), b_num = b.is_number() || b.is_bool();
  if (a_num && b_num) {
    const double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.TypeName() != b.TypeName()) return mismatch("different types: ");
  if (!a.is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("Cannot compare type: ", a.TypeName()));
  }
  if (case_sensitive) return Utf16Compare(a.str(), b.str());
  return Utf16Compare(JsToLower(a.str()), JsToLower(b.str()));
}

Value GetAttributePath(const Value& item, absl::string_view path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const absl::string_view part = path.substr(start, dot == absl::string_view::npos ? dot : dot - start);
    if (v.is_mapping_like()) {
      const Value* found = v.object().Find(part);
      v = found != nullptr ? *found : Value();
    } else if (v.is_array()) {
      std::optional<double> index = JsParseInt(part);
      if (!index || *index < 0 || *index >= static_cast<double>(v.items().size())) return Value();
      v = Value(v.items()[static_cast<size_t>(*index)]);
    } else {
      return Value();
    }
    if (dot == absl::string_view::npos) return v;
    start = dot + 1;
  }
}

bool RawTruthy(const Value& v) {
  switch (v.type()) {
    case ValueType::kArray:
    case ValueType::kObject:
    case ValueType::kNamespace:
    case ValueType::kFunction:
      return true;
    default:
      return Truthy(v);
  }
}

std::string ReplaceAll(absl::string_view s, absl::string_view from, absl::string_view to,
                       int64_t count) {
  if (count == 0) return std::string(s);
  int64_t remaining = count < 0 ? INT64_MAX : count;
  std::string out;
  if (from.empty()) {
    // An empty pattern matches at every code point boundary, both ends included.
    size_t pos = 0;
    while (true) {
      if (remaining > 0) {
        absl::StrAppend(&out, to);
        --remaining;
      }
      if (pos >= s.size()) break;
      const size_t start = pos;
      NextCodePoint(s, &pos);
      absl::StrAppend(&out, s.substr(start, pos - start));
    }
    return out;
  }
  size_t start = 0;
  while (remaining > 0) {
    const size_t at = s.find(from, start);
    if (at == absl::string_view::npos) break;
    absl::StrAppend(&out, s.substr(start, at - start), to);
    start = at + from.size();
    --remaining;
  }
  absl::StrAppend(&out, s.substr(start));
  return out;
}

std::string TitleCase(absl::string_view s) {
  auto is_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  std::string out(s);
  for (size_t i = 0; i < out.size(); ++i) {
    if (is_word(out[i]) && (i == 0 || !is_word(s[i - 1])) && out[i] >= 'a' && out[i] <= 'z') {
      out[i] = static_cast<char>(out[i] - 'a' + 'A');
    }
  }
  return out;
}

std::string Capitalize(absl::string_view s) {
  if (s.empty()) return "";
  size_t pos = 0;
  const char32_t first = NextCodePoint(s, &pos);
  if (first >= 0x10000) return std::string(s);  // charAt(0) is half a surrogate pair.
  return JsToUpper(s.substr(0, pos)) + std::string(s.substr(pos));
}

}  // namespace sllm::tokenizer::jinja
