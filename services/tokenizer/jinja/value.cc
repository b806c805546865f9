#include "services/tokenizer/jinja/value.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "services/tokenizer/jinja/json.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {

Value Value::Bool(bool b) {
  Value v(ValueType::kBool);
  v.b_ = b;
  return v;
}

Value Value::Int(int64_t i) {
  Value v(ValueType::kInt);
  v.i_ = i;
  return v;
}

Value Value::Float(double d) {
  Value v(ValueType::kFloat);
  v.d_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v(ValueType::kString);
  v.ptr_ = std::make_shared<std::string>(std::move(s));
  return v;
}

Value Value::Array(std::vector<Value> items, bool is_tuple) {
  Value v(ValueType::kArray);
  auto data = std::make_shared<ArrayData>();
  data->items = std::move(items);
  data->is_tuple = is_tuple;
  v.ptr_ = std::move(data);
  return v;
}

Value Value::Object(std::shared_ptr<ObjectData> data) {
  Value v(ValueType::kObject);
  v.ptr_ = std::move(data);
  return v;
}

Value Value::Namespace(std::shared_ptr<ObjectData> data) {
  Value v(ValueType::kNamespace);
  v.ptr_ = std::move(data);
  return v;
}

Value Value::Function(std::string name,
                      std::function<absl::StatusOr<Value>(CallContext&, std::vector<Value>&)> fn) {
  Value v(ValueType::kFunction);
  auto data = std::make_shared<FunctionData>();
  data->name = std::move(name);
  data->fn = std::move(fn);
  v.ptr_ = std::move(data);
  return v;
}

double Value::as_double() const {
  switch (type_) {
    case ValueType::kInt:
      return static_cast<double>(i_);
    case ValueType::kFloat:
      return d_;
    case ValueType::kBool:
      return b_ ? 1 : 0;
    default:
      return NAN;
  }
}

const std::vector<Value>& Value::items() const { return array().items; }
bool Value::is_tuple() const { return is_array() && array().is_tuple; }
bool Value::is_kwargs() const { return is_object() && object().is_kwargs; }

absl::string_view Value::TypeName() const {
  switch (type_) {
    case ValueType::kUndefined: return "UndefinedValue";
    case ValueType::kNull: return "NullValue";
    case ValueType::kBool: return "BooleanValue";
    case ValueType::kInt: return "IntegerValue";
    case ValueType::kFloat: return "FloatValue";
    case ValueType::kString: return "StringValue";
    case ValueType::kArray: return is_tuple() ? "TupleValue" : "ArrayValue";
    case ValueType::kObject: return is_kwargs() ? "KeywordArgumentsValue" : "ObjectValue";
    case ValueType::kNamespace: return "NamespaceValue";
    case ValueType::kFunction: return "FunctionValue";
  }
  return "?";
}

const Value* ObjectData::Find(absl::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ObjectData::Set(absl::string_view key, Value value) {
  for (auto& [k, v] : entries) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::string(key), std::move(value));
}

bool Truthy(const Value& v) {
  switch (v.type()) {
    case ValueType::kUndefined:
    case ValueType::kNull:
      return false;
    case ValueType::kBool:
      return v.as_bool();
    case ValueType::kInt:
      return v.as_int() != 0;
    case ValueType::kFloat:
      return v.as_float() != 0 && !std::isnan(v.as_float());
    case ValueType::kString:
      return !v.str().empty();
    case ValueType::kArray:
      return !v.items().empty();
    case ValueType::kObject:
      return v.object().size() > 0;
    case ValueType::kNamespace:
    case ValueType::kFunction:
      return true;
  }
  return false;
}

namespace {

// FloatValue.toString(): "-0.0", "2.0" for integral values, else the JS number.
void AppendFloat(double d, std::string& out) {
  if (d == 0 && std::signbit(d)) {
    out += "-0.0";
  } else if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 1e21) {
    char buf[32];
    snprintf(buf, sizeof(buf), "%.1f", d);
    out += buf;
  } else {
    out += FormatJsNumber(d);
  }
}

}  // namespace

void AppendInt(int64_t i, std::string& out) {
  // Beyond 2^53 the reference's integers are doubles, printed the JS way.
  if (i > (int64_t{1} << 53) || i < -(int64_t{1} << 53)) {
    out += FormatJsNumber(static_cast<double>(i));
  } else {
    absl::StrAppend(&out, i);
  }
}

absl::Status AppendOutput(const Value& v, std::string& out) {
  switch (v.type()) {
    case ValueType::kUndefined:
      out += "undefined";
      break;
    case ValueType::kNull:
      // The reference's NullValue holds JS undefined, and prints so inside lists.
      out += "undefined";
      break;
    case ValueType::kBool:
      out += v.as_bool() ? "true" : "false";
      break;
    case ValueType::kInt:
      AppendInt(v.as_int(), out);
      break;
    case ValueType::kFloat:
      AppendFloat(v.as_float(), out);
      break;
    case ValueType::kString:
      out += v.str();
      break;
    case ValueType::kArray:
    case ValueType::kObject:
    case ValueType::kNamespace: {
      JsonOptions options;
      options.undefined_as_null = false;
      return AppendJson(v, options, out);
    }
    case ValueType::kFunction:
      return absl::InvalidArgumentError(
          absl::StrCat("cannot print function '", v.function().name, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> OutputString(const Value& v) {
  std::string out;
  absl::Status st = AppendOutput(v, out);
  if (!st.ok()) return st;
  return out;
}

absl::Status AppendJsString(const Value& v, std::string& out, bool in_join) {
  switch (v.type()) {
    case ValueType::kUndefined:
      if (!in_join) out += "undefined";
      return absl::OkStatus();
    case ValueType::kNull:  // Its JS value is undefined.
      if (!in_join) out += "undefined";
      return absl::OkStatus();
    case ValueType::kFloat:
      out += FormatJsNumber(v.as_float());
      return absl::OkStatus();
    case ValueType::kArray: {
      // Array.prototype.toString: each element's RuntimeValue.toString(), comma-joined.
      bool first = true;
      for (const Value& item : v.items()) {
        if (!first) out += ',';
        first = false;
        absl::Status st = AppendOutput(item, out);
        if (!st.ok()) return st;
      }
      return absl::OkStatus();
    }
    case ValueType::kObject:
    case ValueType::kNamespace:
      out += "[object Map]";
      return absl::OkStatus();
    default:
      return AppendOutput(v, out);
  }
}

namespace {

enum class JsKind { kUndefined, kNull, kBool, kNumber, kString, kObject };

JsKind KindOf(const Value& v) {
  switch (v.type()) {
    // The reference's NullValue wraps JS undefined, not null.
    case ValueType::kUndefined:
    case ValueType::kNull: return JsKind::kUndefined;
    case ValueType::kBool: return JsKind::kBool;
    case ValueType::kInt:
    case ValueType::kFloat: return JsKind::kNumber;
    case ValueType::kString: return JsKind::kString;
    default: return JsKind::kObject;
  }
}

bool SameKindEquals(const Value& a, const Value& b, JsKind kind) {
  switch (kind) {
    case JsKind::kUndefined:
    case JsKind::kNull:
      return true;
    case JsKind::kBool:
      return a.as_bool() == b.as_bool();
    case JsKind::kNumber:
      if (a.is_int() && b.is_int()) return a.as_int() == b.as_int();
      return a.as_double() == b.as_double();
    case JsKind::kString:
      return a.str() == b.str();
    case JsKind::kObject:
      return a.identity() == b.identity();
  }
  return false;
}

}  // namespace

bool StrictEquals(const Value& a, const Value& b) {
  const JsKind ka = KindOf(a);
  return ka == KindOf(b) && SameKindEquals(a, b, ka);
}

absl::StatusOr<bool> LooseEquals(const Value& a, const Value& b) {
  const JsKind ka = KindOf(a), kb = KindOf(b);
  if (ka == kb) return SameKindEquals(a, b, ka);
  const bool a_nullish = ka == JsKind::kUndefined || ka == JsKind::kNull;
  const bool b_nullish = kb == JsKind::kUndefined || kb == JsKind::kNull;
  if (a_nullish || b_nullish) return a_nullish && b_nullish;
  if (ka == JsKind::kNumber && kb == JsKind::kString) {
    return a.as_double() == JsStringToNumber(b.str());
  }
  if (ka == JsKind::kString && kb == JsKind::kNumber) {
    return JsStringToNumber(a.str()) == b.as_double();
  }
  if (ka == JsKind::kBool) return LooseEquals(Value::Int(a.as_bool() ? 1 : 0), b);
  if (kb == JsKind::kBool) return LooseEquals(a, Value::Int(b.as_bool() ? 1 : 0));
  // An object against a number or string: compare its primitive (string) form. A function's
  // primitive is its JS source text, which equals no template value.
  const Value& obj = ka == JsKind::kObject ? a : b;
  const Value& prim = ka == JsKind::kObject ? b : a;
  if (obj.is_function()) return false;
  std::string s;
  absl::Status st = AppendJsString(obj, s);
  if (!st.ok()) return st;
  return LooseEquals(Value::String(std::move(s)), prim);
}

}  // namespace sllm::tokenizer::jinja
