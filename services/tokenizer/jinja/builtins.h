// The reference runtime's built-ins other than filters: tests (`is defined`), string methods
// (`.strip()`, `.split()`), mapping methods (`.get()`, `.items()`), global functions
// (`range`, `namespace`, `raise_exception`, `strftime_now`) and the value ordering that `sort`
// and `dictsort` use.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_BUILTINS_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_BUILTINS_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "services/tokenizer/jinja/interpreter.h"
#include "services/tokenizer/jinja/value.h"

namespace sllm::tokenizer::jinja {

// `operand is name` (with `arg` for equalto/eq, as selectattr passes it; null when absent).
bool IsKnownTest(absl::string_view name);
absl::StatusOr<bool> ApplyTest(absl::string_view name, const Value& operand, const Value* arg,
                               const CallContext& ctx);

bool IsStringMethod(absl::string_view name);
bool IsObjectMethod(absl::string_view name);
// Calls a method of a string / a mapping; `args` as FunctionData::fn receives them.
absl::StatusOr<Value> CallStringMethod(const Value& s, absl::string_view name,
                                       std::vector<Value>& args, CallContext& ctx);
absl::StatusOr<Value> CallObjectMethod(const Value& obj, absl::string_view name,
                                       std::vector<Value>& args, CallContext& ctx);
// `s.strip` without a call: the method as a function value bound to its receiver.
Value BoundMethod(const Value& receiver, absl::string_view name);

// The read-only globals every render starts with: true/false/none (and title-case forms),
// range, namespace, raise_exception, strftime_now.
const VariableMap& BuiltinGlobals();

// The reference's compareRuntimeValues: numbers (and booleans) by value, strings by UTF-16
// order (lowercased unless case_sensitive), null with null, undefined with undefined; any
// other pair is an error.
absl::StatusOr<int> CompareValues(const Value& a, const Value& b, bool case_sensitive);

// `item.a.0.b`-style lookup through mappings and list indices; undefined when missing.
Value GetAttributePath(const Value& item, absl::string_view path);

// JS truthiness of a value's raw form ([] and {} are truthy), as `indent(first=...)` tests it.
bool RawTruthy(const Value& v);

// Python str.replace with the reference's semantics (count < 0 or unset: all).
std::string ReplaceAll(absl::string_view s, absl::string_view from, absl::string_view to,
                       int64_t count);

// JS /\b\w/ title-casing (only ASCII word starts change) and charAt(0)-capitalization.
std::string TitleCase(absl::string_view s);
std::string Capitalize(absl::string_view s);

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_BUILTINS_H_
