// JSON in and out of runtime values: the `tojson` filter (the reference's toJSON: Python
// json.dumps layout, ensure_ascii=False by default, JS number printing) and the conversion of
// a JSON render context into values (the reference's convertToRuntimeValues of JSON.parse
// output: integral numbers become integers, integer-like keys come first).
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_JSON_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_JSON_H_

#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/jinja/value.h"

namespace sllm::tokenizer::jinja {

struct JsonOptions {
  // Spaces per level; 0 or unset: one line.
  int64_t indent = 0;
  // Escape every UTF-16 unit >= 0x7F as \uXXXX.
  bool ensure_ascii = false;
  // Sort object keys (by the en-US collation JS localeCompare uses).
  bool sort_keys = false;
  // (item separator, key separator); unset: (", ", ": "), or (",", ": ") when indenting.
  std::optional<std::pair<std::string, std::string>> separators;
  // Undefined prints as null (tojson) or as "undefined" (printing a list or dict).
  bool undefined_as_null = true;
};

// Appends the JSON text of `v`. Fails on functions, tuples and keyword bundles (as the
// reference does) and on nesting deeper than 256 levels (a namespace that contains itself).
absl::Status AppendJson(const Value& v, const JsonOptions& options, std::string& out);

// JSON.stringify of a string.
void AppendJsonString(absl::string_view s, bool ensure_ascii, std::string& out);

// A runtime value from parsed JSON.
absl::StatusOr<Value> FromJson(const nlohmann::ordered_json& j);

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_JSON_H_
