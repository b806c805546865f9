// Evaluates a parsed template, statement by statement, with @huggingface/jinja's runtime
// semantics (scoping, loops, macros, call blocks, filters, tests, errors), within the limits of
// RenderOptions.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_INTERPRETER_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_INTERPRETER_H_

#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "services/tokenizer/jinja/ast.h"
#include "services/tokenizer/jinja/template.h"
#include "services/tokenizer/jinja/value.h"

namespace sllm::tokenizer::jinja {

using VariableMap = absl::flat_hash_map<std::string, Value>;

// One level of variables. The root scope holds the render context over the read-only
// built-in globals; loops, macro calls and call blocks add child scopes. Local names point
// into the syntax tree (or are literals), which outlives a render.
class Scope {
 public:
  explicit Scope(Scope* parent) : parent_(parent) {}
  Scope(VariableMap* globals, const VariableMap* builtins)
      : globals_(globals), builtins_(builtins) {}

  // The innermost binding of `name`, or null.
  const Value* Lookup(absl::string_view name) const;
  // Binds `name` in this scope.
  void Set(absl::string_view name, Value value);

 private:
  Scope* parent_ = nullptr;
  std::vector<std::pair<absl::string_view, Value>> locals_;
  VariableMap* globals_ = nullptr;
  const VariableMap* builtins_ = nullptr;
};

class Interpreter;

// What a native function or filter sees of its call site.
struct CallContext {
  Interpreter& interp;
  Scope& scope;
  int line;

  // "template line N: message".
  absl::Status Error(absl::string_view message) const;
};

// Keyword arguments of a call, in order.
using Kwargs = std::vector<std::pair<std::string, Value>>;

class Interpreter {
 public:
  explicit Interpreter(const RenderOptions& options) : options_(options) {}
  ~Interpreter();

  // Renders `program` with `root` as its global scope.
  absl::StatusOr<std::string> Run(const Program& program, Scope& root);

  const RenderOptions& options() const { return options_; }
  // Counts one loop iteration, macro call or produced list element against max_steps.
  absl::Status Step(int line, int64_t n = 1);
  // Fails when a string of `size` bytes would exceed max_output_bytes.
  absl::Status CheckSize(size_t size, int line) const;
  // Remembers a namespace created by this render, so that the render can break the reference
  // cycles a self-containing namespace makes.
  void TrackNamespace(std::shared_ptr<ObjectData> ns) { namespaces_.push_back(std::move(ns)); }

  // Calls a macro (`stmt` is its kMacro) with the caller's scope as parent, as the reference
  // scopes macros dynamically.
  absl::StatusOr<Value> InvokeMacro(const Stmt& stmt, std::vector<Value>& args, Scope& caller,
                                    int line);
  // Calls the body of a call block (`caller()`), in the scope the block appears in.
  absl::StatusOr<Value> InvokeCallBlock(const Stmt& stmt, std::vector<Value>& args,
                                        Scope& defining, int line);

 private:
  absl::Status ExecBlock(const std::vector<std::unique_ptr<Stmt>>& body, Scope& scope,
                         std::string& out);
  absl::Status Exec(const Stmt& stmt, Scope& scope, std::string& out);
  absl::Status ExecFor(const Stmt& stmt, Scope& parent, std::string& out);
  absl::Status ExecSet(const Stmt& stmt, Scope& scope);
  absl::Status ExecCallBlock(const Stmt& stmt, Scope& scope, std::string& out);
  absl::Status AppendValue(const Value& v, int line, std::string& out);
  absl::Status BindArguments(const Stmt& stmt, absl::string_view display_name,
                             std::vector<Value>& args, Scope& scope, int line);

  absl::StatusOr<Value> Eval(const Expr& e, Scope& scope);
  absl::StatusOr<Value> EvalBinary(const Expr& e, Scope& scope);
  absl::StatusOr<Value> EvalUnary(const Expr& e, Scope& scope);
  absl::StatusOr<Value> EvalMember(const Expr& e, Scope& scope);
  absl::StatusOr<Value> EvalSlice(const Value& object, const Expr& slice, Scope& scope);
  absl::StatusOr<Value> EvalCall(const Expr& e, Scope& scope);
  absl::StatusOr<Value> EvalObject(const Expr& e, Scope& scope);
  // Evaluates call arguments children[first...]: positional ones (with `*` spreads) first,
  // then keyword ones (with `**` spreads), as the reference does.
  absl::Status EvalArgs(const Expr& e, size_t first, Scope& scope, std::vector<Value>& args,
                        Kwargs& kwargs);
  absl::StatusOr<Value> CallValue(const Value& fn, std::vector<Value>& args, Scope& scope,
                                  int line);

  // filters.cc
  absl::StatusOr<Value> ApplyFilter(const Value& operand, const Expr& filter, Scope& scope);
  absl::StatusOr<Value> ApplyCalledFilter(const Value& operand, const Expr& filter, Scope& scope);
  absl::StatusOr<Value> FilterArray(const Value& operand, const Expr& filter, Scope& scope);
  absl::StatusOr<Value> FilterSelectAttr(const Value& operand, const Expr& filter, Scope& scope);

  const RenderOptions& options_;
  int64_t steps_ = 0;
  int call_depth_ = 0;
  int control_line_ = 0;  // Line of the last break/continue, for "outside a loop" errors.
  std::vector<std::shared_ptr<ObjectData>> namespaces_;
};

// "template line N: message".
absl::Status LineError(int line, absl::string_view message);
// Adds "template line N: " to an error that does not name a line yet.
absl::Status WithLine(absl::Status st, int line);
// A keyword-argument bundle, as calls pass keyword arguments to functions.
Value KwargsObject(Kwargs kwargs);

// Loop control travels up as these statuses (never used for errors).
inline bool IsBreak(const absl::Status& s) { return s.code() == absl::StatusCode::kAborted; }
inline bool IsContinue(const absl::Status& s) { return s.code() == absl::StatusCode::kCancelled; }

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_INTERPRETER_H_
