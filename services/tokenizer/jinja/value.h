// Runtime values of the Jinja interpreter, with the semantics of @huggingface/jinja's runtime
// values (IntegerValue, FloatValue, StringValue, ...): truthiness, printing, JS equality.
//
// Strings, arrays, objects and functions are shared and immutable once built; namespaces are
// shared and mutable (`{% set ns.x = ... %}`). Identity (for `==` on containers, as JS compares
// objects by reference) is the address of the shared data.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_VALUE_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_VALUE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sllm::tokenizer::jinja {

struct ArrayData;
struct ObjectData;
struct FunctionData;
struct CallContext;

enum class ValueType : uint8_t {
  kUndefined,
  kNull,
  kBool,
  kInt,
  kFloat,
  kString,
  kArray,      // Also tuples (ArrayData::is_tuple).
  kObject,     // Also keyword-argument bundles (ObjectData::is_kwargs).
  kNamespace,  // namespace(...): mutable attributes, no mapping methods.
  kFunction,
};

class Value {
 public:
  Value() = default;  // Undefined.

  static Value Null() { return Value(ValueType::kNull); }
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value Array(std::vector<Value> items, bool is_tuple = false);
  static Value Object(std::shared_ptr<ObjectData> data);
  static Value Namespace(std::shared_ptr<ObjectData> data);
  static Value Function(std::string name,
                        std::function<absl::StatusOr<Value>(CallContext&, std::vector<Value>&)> fn);

  ValueType type() const { return type_; }
  bool is_undefined() const { return type_ == ValueType::kUndefined; }
  bool is_null() const { return type_ == ValueType::kNull; }
  bool is_bool() const { return type_ == ValueType::kBool; }
  bool is_int() const { return type_ == ValueType::kInt; }
  bool is_float() const { return type_ == ValueType::kFloat; }
  bool is_number() const { return is_int() || is_float(); }
  bool is_string() const { return type_ == ValueType::kString; }
  bool is_array() const { return type_ == ValueType::kArray; }
  bool is_object() const { return type_ == ValueType::kObject; }
  bool is_namespace() const { return type_ == ValueType::kNamespace; }
  bool is_function() const { return type_ == ValueType::kFunction; }
  // Objects and namespaces: string-keyed attribute containers.
  bool is_mapping_like() const { return is_object() || is_namespace(); }

  bool as_bool() const { return b_; }
  int64_t as_int() const { return i_; }
  double as_float() const { return d_; }
  // Numeric value of an int, float or bool.
  double as_double() const;
  const std::string& str() const { return *static_cast<const std::string*>(ptr_.get()); }
  const ArrayData& array() const { return *static_cast<const ArrayData*>(ptr_.get()); }
  const std::vector<Value>& items() const;
  const ObjectData& object() const { return *static_cast<const ObjectData*>(ptr_.get()); }
  ObjectData& mutable_object() const { return *static_cast<ObjectData*>(ptr_.get()); }
  const FunctionData& function() const { return *static_cast<const FunctionData*>(ptr_.get()); }
  bool is_tuple() const;
  bool is_kwargs() const;
  // Address of the shared data (containers and functions); null for other types.
  const void* identity() const { return ptr_.get(); }

  // The reference runtime's type name ("IntegerValue", "TupleValue", ...), for messages.
  absl::string_view TypeName() const;

 private:
  explicit Value(ValueType t) : type_(t) {}

  ValueType type_ = ValueType::kUndefined;
  union {
    bool b_;
    int64_t i_ = 0;
    double d_;
  };
  std::shared_ptr<void> ptr_;
};

struct ArrayData {
  std::vector<Value> items;
  bool is_tuple = false;
};

// An insertion-ordered string-keyed map.
struct ObjectData {
  std::vector<std::pair<std::string, Value>> entries;
  bool is_kwargs = false;

  const Value* Find(absl::string_view key) const;
  // Replaces the value of `key` in place, or appends it.
  void Set(absl::string_view key, Value value);
  size_t size() const { return entries.size(); }
};

struct FunctionData {
  std::string name;
  // Positional arguments, then one kwargs object when keyword arguments were given (as the
  // reference passes them).
  std::function<absl::StatusOr<Value>(CallContext&, std::vector<Value>&)> fn;
};

// Python-like truthiness as the reference computes it (`__bool__`).
bool Truthy(const Value& v);

// An integer as JS prints it (integers past 2^53 are doubles there).
void AppendInt(int64_t i, std::string& out);

// The text `{{ v }}` prints (the reference's RuntimeValue.toString()). Fails for values the
// reference cannot print (functions, tuples and keyword bundles inside JSON).
absl::Status AppendOutput(const Value& v, std::string& out);
absl::StatusOr<std::string> OutputString(const Value& v);

// JavaScript String(v.value): how `~`, `+` and `join` see a value. `in_join`: Array.join turns
// null and undefined into "".
absl::Status AppendJsString(const Value& v, std::string& out, bool in_join = false);

// JavaScript `v1.value == v2.value` (loose equality), as the reference's `==` compares.
absl::StatusOr<bool> LooseEquals(const Value& a, const Value& b);
// JavaScript `===` on the underlying values (`in` on arrays, the equalto test).
bool StrictEquals(const Value& a, const Value& b);

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_VALUE_H_
