#include "services/tokenizer/jinja/json.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "absl/strings/str_cat.h"
#include "services/tokenizer/jinja/text.h"
#include "unicode/coll.h"
#include "unicode/locid.h"
#include "unicode/unistr.h"

namespace sllm::tokenizer::jinja {
namespace {

constexpr int kMaxDepth = 256;

void AppendHex4(uint32_t unit, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xF];
}

struct Writer {
  const JsonOptions& options;
  std::string item_sep;
  std::string key_sep;
  std::string indent_unit;
  std::unique_ptr<icu::Collator> collator;

  absl::Status Write(const Value& v, int depth, std::string& out);
  absl::Status WriteEntries(const ObjectData& obj, int depth, std::string& out);
  void Padding(int depth, std::string& out) const {
    out += '\n';
    for (int i = 0; i < depth; ++i) out += indent_unit;
  }
};

absl::Status Writer::Write(const Value& v, int depth, std::string& out) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError("value nested too deeply for JSON (does it contain itself?)");
  }
  switch (v.type()) {
    case ValueType::kNull:
      out += "null";
      return absl::OkStatus();
    case ValueType::kUndefined:
      out += options.undefined_as_null ? "null" : "undefined";
      return absl::OkStatus();
    case ValueType::kBool:
      out += v.as_bool() ? "true" : "false";
      return absl::OkStatus();
    case ValueType::kInt:
      AppendInt(v.as_int(), out);
      return absl::OkStatus();
    case ValueType::kFloat:
      out += FormatJsonNumber(v.as_float());
      return absl::OkStatus();
    case ValueType::kString:
      AppendJsonString(v.str(), options.ensure_ascii, out);
      return absl::OkStatus();
    case ValueType::kArray: {
      if (v.is_tuple()) return absl::InvalidArgumentError("Cannot convert to JSON: TupleValue");
      const auto& items = v.items();
      out += '[';
      const bool pretty = !indent_unit.empty() && !items.empty();
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) out += item_sep;
        if (pretty) Padding(depth + 1, out);
        absl::Status st = Write(items[i], depth + 1, out);
        if (!st.ok()) return st;
      }
      if (pretty) Padding(depth, out);
      out += ']';
      return absl::OkStatus();
    }
    case ValueType::kObject:
      if (v.is_kwargs()) {
        return absl::InvalidArgumentError("Cannot convert to JSON: KeywordArgumentsValue");
      }
      [[fallthrough]];
    case ValueType::kNamespace:
      return WriteEntries(v.object(), depth, out);
    case ValueType::kFunction:
      return absl::InvalidArgumentError("Cannot convert to JSON: FunctionValue");
  }
  return absl::OkStatus();
}

absl::Status Writer::WriteEntries(const ObjectData& obj, int depth, std::string& out) {
  std::vector<const std::pair<std::string, Value>*> entries;
  entries.reserve(obj.entries.size());
  for (const auto& e : obj.entries) entries.push_back(&e);
  if (options.sort_keys && entries.size() > 1) {
    if (collator == nullptr) {
      UErrorCode status = U_ZERO_ERROR;
      collator.reset(icu::Collator::createInstance(icu::Locale("en", "US"), status));
      if (U_FAILURE(status) || collator == nullptr) {
        return absl::InternalError("cannot create the collator for sort_keys");
      }
    }
    icu::Collator* c = collator.get();
    std::stable_sort(entries.begin(), entries.end(), [c](const auto* a, const auto* b) {
      UErrorCode st = U_ZERO_ERROR;
      return c->compareUTF8(icu::StringPiece(a->first.data(), a->first.size()),
                            icu::StringPiece(b->first.data(), b->first.size()),
                            st) == UCOL_LESS;
    });
  }
  out += '{';
  const bool pretty = !indent_unit.empty();
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out += item_sep;
    if (pretty) Padding(depth + 1, out);
    AppendJsonString(entries[i]->first, options.ensure_ascii, out);
    out += key_sep;
    absl::Status st = Write(entries[i]->second, depth + 1, out);
    if (!st.ok()) return st;
  }
  if (pretty && !entries.empty()) Padding(depth, out);
  out += '}';
  return absl::OkStatus();
}

// JS key order of Object.entries: array-index keys ("0".."4294967294") first, ascending.
bool IsArrayIndex(const std::string& key, uint64_t* index) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) return false;
  uint64_t v = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  if (v >= 4294967295ull) return false;
  *index = v;
  return true;
}

absl::StatusOr<Value> Convert(const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxDepth) return absl::InvalidArgumentError("JSON nested too deeply");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::Null();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
    case nlohmann::ordered_json::value_t::number_float: {
      // JSON.parse gives a JS number (a double); an integral one becomes an IntegerValue.
      // Integral doubles past int64 (from 2^63 to 1e21) would print differently; they stay
      // floats (beyond 1e21 both print as "1e+21").
      const double d = j.is_number_integer() ? static_cast<double>(j.get<int64_t>())
                       : j.is_number_unsigned() ? static_cast<double>(j.get<uint64_t>())
                                                : j.get<double>();
      if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.2e18) {
        return Value::Int(static_cast<int64_t>(d));
      }
      return Value::Float(d);
    }
    case nlohmann::ordered_json::value_t::string:
      return Value::String(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) {
        absl::StatusOr<Value> v = Convert(e, depth + 1);
        if (!v.ok()) return v.status();
        items.push_back(std::move(*v));
      }
      return Value::Array(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      auto obj = std::make_shared<ObjectData>();
      std::vector<std::pair<uint64_t, const std::string*>> index_keys;
      for (const auto& [key, value] : j.items()) {
        uint64_t index = 0;
        if (IsArrayIndex(key, &index)) index_keys.emplace_back(index, &key);
      }
      std::sort(index_keys.begin(), index_keys.end());
      for (const auto& [index, key] : index_keys) {
        absl::StatusOr<Value> v = Convert(j.at(*key), depth + 1);
        if (!v.ok()) return v.status();
        obj->entries.emplace_back(*key, std::move(*v));
      }
      for (const auto& [key, value] : j.items()) {
        uint64_t index = 0;
        if (IsArrayIndex(key, &index)) continue;
        absl::StatusOr<Value> v = Convert(value, depth + 1);
        if (!v.ok()) return v.status();
        obj->entries.emplace_back(key, std::move(*v));
      }
      return Value::Object(std::move(obj));
    }
    default:
      return absl::InvalidArgumentError("unsupported JSON value (binary or discarded)");
  }
}

}  // namespace

void AppendJsonString(absl::string_view s, bool ensure_ascii, std::string& out) {
  out += '"';
  for (size_t pos = 0; pos < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    if (c < 0x80) {
      ++pos;
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (c < 0x20 || (ensure_ascii && c == 0x7F)) {
            AppendHex4(c, out);
          } else {
            out += static_cast<char>(c);
          }
      }
      continue;
    }
    const size_t start = pos;
    const char32_t cp = NextCodePoint(s, &pos);
    if (!ensure_ascii) {
      absl::StrAppend(&out, s.substr(start, pos - start));
    } else if (cp < 0x10000) {
      AppendHex4(cp, out);
    } else {
      const uint32_t v = cp - 0x10000;
      AppendHex4(0xD800 + (v >> 10), out);
      AppendHex4(0xDC00 + (v & 0x3FF), out);
    }
  }
  out += '"';
}

absl::Status AppendJson(const Value& v, const JsonOptions& options, std::string& out) {
  if (options.indent < 0) return absl::InvalidArgumentError("Invalid count value: negative indent");
  if (options.indent > 1000) return absl::InvalidArgumentError("tojson indent is too large");
  // Python's json.dumps: (", ", ": "), or ("," ": ") when indenting, unless given.
  std::string item_sep = options.separators ? options.separators->first
                         : options.indent > 0 ? std::string(",")
                                              : std::string(", ");
  std::string key_sep = options.separators ? options.separators->second : std::string(": ");
  Writer w{options, std::move(item_sep), std::move(key_sep), std::string(options.indent, ' '),
           nullptr};
  return w.Write(v, 0, out);
}

absl::StatusOr<Value> FromJson(const nlohmann::ordered_json& j) { return Convert(j, 0); }

}  // namespace sllm::tokenizer::jinja
