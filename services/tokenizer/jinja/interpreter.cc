#include "services/tokenizer/jinja/interpreter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace sllm::tokenizer::jinja {

absl::Status LineError(int line, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("template line ", line, ": ", message));
}

absl::Status WithLine(absl::Status st, int line) {
  if (st.ok() || IsBreak(st) || IsContinue(st)) return st;
  if (absl::StartsWith(st.message(), "template line ")) return st;
  return absl::Status(st.code(), absl::StrCat("template line ", line, ": ", st.message()));
}

Value KwargsObject(Kwargs kwargs) {
  auto obj = std::make_shared<ObjectData>();
  obj->entries = std::move(kwargs);
  obj->is_kwargs = true;
  return Value::Object(std::move(obj));
}

absl::Status CallContext::Error(absl::string_view message) const { return LineError(line, message); }

const Value* Scope::Lookup(absl::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent_) {
    for (const auto& [n, v] : s->locals_) {
      if (n == name) return &v;
    }
    if (s->globals_ != nullptr) {
      auto it = s->globals_->find(name);
      if (it != s->globals_->end()) return &it->second;
    }
    if (s->builtins_ != nullptr) {
      auto it = s->builtins_->find(name);
      if (it != s->builtins_->end()) return &it->second;
    }
  }
  return nullptr;
}

void Scope::Set(absl::string_view name, Value value) {
  if (globals_ != nullptr) {
    (*globals_)[name] = std::move(value);
    return;
  }
  for (auto& [n, v] : locals_) {
    if (n == name) {
      v = std::move(value);
      return;
    }
  }
  locals_.emplace_back(name, std::move(value));
}

Interpreter::~Interpreter() {
  // A namespace may contain itself (`{% set ns.me = ns %}`); emptying them breaks such cycles.
  for (const auto& ns : namespaces_) ns->entries.clear();
}

absl::StatusOr<std::string> Interpreter::Run(const Program& program, Scope& root) {
  std::string out;
  absl::Status st = ExecBlock(program.body, root, out);
  if (IsBreak(st) || IsContinue(st)) {
    return LineError(control_line_, absl::StrCat("'", IsBreak(st) ? "break" : "continue",
                                                 "' outside a loop"));
  }
  RETURN_IF_ERROR(st);
  return out;
}

absl::Status Interpreter::Step(int line, int64_t n) {
  steps_ += n;
  if (steps_ > options_.max_steps) {
    return LineError(line, absl::StrCat("render exceeded ", options_.max_steps,
                                        " steps (loop iterations, macro calls, list items)"));
  }
  return absl::OkStatus();
}

absl::Status Interpreter::CheckSize(size_t size, int line) const {
  if (size > options_.max_output_bytes) {
    return LineError(line, absl::StrCat("render output exceeds ", options_.max_output_bytes,
                                        " bytes"));
  }
  return absl::OkStatus();
}

absl::Status Interpreter::ExecBlock(const std::vector<std::unique_ptr<Stmt>>& body, Scope& scope,
                                    std::string& out) {
  for (const auto& stmt : body) RETURN_IF_ERROR(Exec(*stmt, scope, out));
  return absl::OkStatus();
}

absl::Status Interpreter::AppendValue(const Value& v, int line, std::string& out) {
  if (v.is_null() || v.is_undefined()) return absl::OkStatus();
  return WithLine(AppendOutput(v, out), line);
}

absl::Status Interpreter::Exec(const Stmt& stmt, Scope& scope, std::string& out) {
  switch (stmt.kind) {
    case StmtKind::kText:
      out += stmt.text;
      break;
    case StmtKind::kOutput: {
      ASSIGN_OR_RETURN(Value v, Eval(*stmt.expr, scope));
      RETURN_IF_ERROR(AppendValue(v, stmt.line, out));
      break;
    }
    case StmtKind::kIf: {
      ASSIGN_OR_RETURN(Value test, Eval(*stmt.expr, scope));
      RETURN_IF_ERROR(ExecBlock(Truthy(test) ? stmt.body : stmt.else_body, scope, out));
      break;
    }
    case StmtKind::kFor:
      RETURN_IF_ERROR(ExecFor(stmt, scope, out));
      break;
    case StmtKind::kSet:
      return ExecSet(stmt, scope);
    case StmtKind::kMacro: {
      const Stmt* macro = &stmt;
      scope.Set(stmt.name, Value::Function(stmt.name, [macro](CallContext& ctx,
                                                              std::vector<Value>& args) {
                  return ctx.interp.InvokeMacro(*macro, args, ctx.scope, ctx.line);
                }));
      return absl::OkStatus();
    }
    case StmtKind::kCallBlock:
      RETURN_IF_ERROR(ExecCallBlock(stmt, scope, out));
      break;
    case StmtKind::kFilterBlock: {
      std::string body;
      RETURN_IF_ERROR(ExecBlock(stmt.body, scope, body));
      ASSIGN_OR_RETURN(Value v, ApplyFilter(Value::String(std::move(body)), *stmt.expr, scope));
      RETURN_IF_ERROR(AppendValue(v, stmt.line, out));
      break;
    }
    case StmtKind::kBreak:
      control_line_ = stmt.line;
      return absl::Status(absl::StatusCode::kAborted, "");
    case StmtKind::kContinue:
      control_line_ = stmt.line;
      return absl::Status(absl::StatusCode::kCancelled, "");
    case StmtKind::kComment:
      return absl::OkStatus();
  }
  return CheckSize(out.size(), stmt.line);
}

absl::Status Interpreter::ExecSet(const Stmt& stmt, Scope& scope) {
  Value rhs;
  if (stmt.expr != nullptr) {
    ASSIGN_OR_RETURN(rhs, Eval(*stmt.expr, scope));
  } else {
    std::string body;
    RETURN_IF_ERROR(ExecBlock(stmt.body, scope, body));
    rhs = Value::String(std::move(body));
  }
  const Expr& target = *stmt.target;
  switch (target.kind) {
    case ExprKind::kIdentifier:
      scope.Set(target.name, std::move(rhs));
      return absl::OkStatus();
    case ExprKind::kTuple: {
      if (!rhs.is_array()) {
        return LineError(stmt.line, absl::StrCat("Cannot unpack non-iterable type in set: ",
                                                 rhs.TypeName()));
      }
      const auto& items = rhs.items();
      if (items.size() != target.children.size()) {
        return LineError(stmt.line, absl::StrCat("Too ",
                                                 target.children.size() > items.size() ? "few" : "many",
                                                 " items to unpack in set"));
      }
      for (size_t i = 0; i < items.size(); ++i) {
        if (target.children[i]->kind != ExprKind::kIdentifier) {
          return LineError(stmt.line, "Cannot unpack to non-identifier in set");
        }
        scope.Set(target.children[i]->name, items[i]);
      }
      return absl::OkStatus();
    }
    case ExprKind::kMember: {
      ASSIGN_OR_RETURN(Value object, Eval(*target.children[0], scope));
      if (!object.is_namespace()) {
        return LineError(stmt.line, "cannot assign attribute on non-namespace object");
      }
      if (target.flag || !target.literal.is_string()) {
        return LineError(stmt.line, "Cannot assign to member with non-identifier property");
      }
      object.mutable_object().Set(target.literal.str(), std::move(rhs));
      return absl::OkStatus();
    }
    default:
      return LineError(stmt.line, "Invalid LHS inside assignment expression");
  }
}

absl::Status Interpreter::ExecFor(const Stmt& stmt, Scope& parent, std::string& out) {
  Scope scope(&parent);
  ASSIGN_OR_RETURN(Value iterable, Eval(*stmt.expr, scope));
  std::vector<Value> source;
  if (iterable.is_array()) {
    source = iterable.items();
  } else if (iterable.is_object()) {
    for (const auto& [key, value] : iterable.object().entries) source.push_back(Value::String(key));
  } else {
    return LineError(stmt.line, absl::StrCat("Expected iterable or object type in for loop: got ",
                                             iterable.TypeName()));
  }
  const Expr& target = *stmt.target;
  auto bind = [&](Scope& s, const Value& item) -> absl::Status {
    if (target.kind == ExprKind::kIdentifier) {
      s.Set(target.name, item);
      return absl::OkStatus();
    }
    for (size_t j = 0; j < target.children.size(); ++j) {
      if (target.children[j]->kind != ExprKind::kIdentifier) {
        return LineError(stmt.line, "Cannot unpack non-identifier type");
      }
      s.Set(target.children[j]->name, item.items()[j]);
    }
    return absl::OkStatus();
  };
  std::vector<Value> items;
  items.reserve(source.size());
  for (Value& item : source) {
    if (target.kind == ExprKind::kTuple) {
      if (!item.is_array() || item.is_tuple()) {
        return LineError(stmt.line, absl::StrCat("Cannot unpack non-iterable type: ", item.TypeName()));
      }
      if (item.items().size() != target.children.size()) {
        return LineError(stmt.line, absl::StrCat("Too ",
                                                 target.children.size() > item.items().size() ? "few" : "many",
                                                 " items to unpack"));
      }
    }
    if (stmt.cond != nullptr) {
      RETURN_IF_ERROR(Step(stmt.line));
      Scope loop_scope(&scope);
      RETURN_IF_ERROR(bind(loop_scope, item));
      ASSIGN_OR_RETURN(Value keep, Eval(*stmt.cond, loop_scope));
      if (!Truthy(keep)) continue;
    }
    items.push_back(std::move(item));
  }
  const int64_t n = static_cast<int64_t>(items.size());
  bool no_iteration = true;
  for (int64_t i = 0; i < n; ++i) {
    RETURN_IF_ERROR(Step(stmt.line));
    auto loop = std::make_shared<ObjectData>();
    loop->entries.reserve(9);
    loop->entries.emplace_back("index", Value::Int(i + 1));
    loop->entries.emplace_back("index0", Value::Int(i));
    loop->entries.emplace_back("revindex", Value::Int(n - i));
    loop->entries.emplace_back("revindex0", Value::Int(n - i - 1));
    loop->entries.emplace_back("first", Value::Bool(i == 0));
    loop->entries.emplace_back("last", Value::Bool(i == n - 1));
    loop->entries.emplace_back("length", Value::Int(n));
    loop->entries.emplace_back("previtem", i > 0 ? items[i - 1] : Value());
    loop->entries.emplace_back("nextitem", i < n - 1 ? items[i + 1] : Value());
    scope.Set("loop", Value::Object(std::move(loop)));
    RETURN_IF_ERROR(bind(scope, items[i]));
    const size_t mark = out.size();
    absl::Status st = ExecBlock(stmt.body, scope, out);
    // As the reference: an iteration cut by continue/break contributes no output, and does
    // not count as an iteration for the else block.
    if (IsContinue(st)) {
      out.resize(mark);
      continue;
    }
    if (IsBreak(st)) {
      out.resize(mark);
      break;
    }
    RETURN_IF_ERROR(st);
    no_iteration = false;
  }
  if (no_iteration) RETURN_IF_ERROR(ExecBlock(stmt.else_body, scope, out));
  return absl::OkStatus();
}

absl::Status Interpreter::ExecCallBlock(const Stmt& stmt, Scope& scope, std::string& out) {
  // caller() runs the block in this scope; it must not outlive it.
  auto alive = std::make_shared<bool>(true);
  const Stmt* block = &stmt;
  Scope* defining = &scope;
  Value caller = Value::Function("caller", [block, defining, alive](CallContext& ctx,
                                                                    std::vector<Value>& args)
                                               -> absl::StatusOr<Value> {
    if (!*alive) return ctx.Error("caller() called after its call block ended");
    return ctx.interp.InvokeCallBlock(*block, args, *defining, ctx.line);
  });
  const Expr& call = *stmt.expr;
  std::vector<Value> args;
  Kwargs kwargs;
  RETURN_IF_ERROR(EvalArgs(call, 1, scope, args, kwargs));
  args.push_back(KwargsObject(std::move(kwargs)));
  ASSIGN_OR_RETURN(Value fn, Eval(*call.children[0], scope));
  Scope env(&scope);
  env.Set("caller", std::move(caller));
  absl::StatusOr<Value> result = CallValue(fn, args, env, stmt.line);
  *alive = false;
  RETURN_IF_ERROR(result.status());
  return AppendValue(*result, stmt.line, out);
}

absl::Status Interpreter::BindArguments(const Stmt& stmt, absl::string_view display_name,
                                        std::vector<Value>& args, Scope& scope, int line) {
  Kwargs kwargs;
  size_t positional = args.size();
  if (positional > 0 && args.back().is_kwargs()) {
    kwargs = args.back().object().entries;
    --positional;
  }
  std::vector<const Param*> pending_defaults;
  for (size_t i = 0; i < stmt.params.size(); ++i) {
    const Param& p = stmt.params[i];
    if (i < positional) {
      scope.Set(p.name, args[i]);
      continue;
    }
    bool found = false;
    for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
      if (it->first == p.name) {
        scope.Set(p.name, std::move(it->second));
        kwargs.erase(it);
        found = true;
        break;
      }
    }
    if (!found) {
      if (p.default_value != nullptr) pending_defaults.push_back(&p);
      scope.Set(p.name, Value());
    }
  }
  if (stmt.uses_kwargs) {
    auto obj = std::make_shared<ObjectData>();
    obj->entries = std::move(kwargs);
    scope.Set("kwargs", Value::Object(std::move(obj)));
  } else if (!kwargs.empty()) {
    return LineError(line, absl::StrCat("macro ", display_name, " takes no keyword argument '",
                                        kwargs.front().first, "'"));
  }
  if (stmt.uses_varargs) {
    std::vector<Value> rest;
    for (size_t i = stmt.params.size(); i < positional; ++i) rest.push_back(args[i]);
    scope.Set("varargs", Value::Array(std::move(rest)));
  } else if (positional > stmt.params.size()) {
    return LineError(line, absl::StrCat("macro ", display_name, " takes not more than ",
                                        stmt.params.size(), " argument(s)"));
  }
  for (const Param* p : pending_defaults) {
    ASSIGN_OR_RETURN(Value v, Eval(*p->default_value, scope));
    scope.Set(p->name, std::move(v));
  }
  return absl::OkStatus();
}

absl::StatusOr<Value> Interpreter::InvokeMacro(const Stmt& stmt, std::vector<Value>& args,
                                               Scope& caller, int line) {
  if (call_depth_ >= options_.max_call_depth) {
    return LineError(line, absl::StrCat("macro calls nested deeper than ",
                                        options_.max_call_depth));
  }
  RETURN_IF_ERROR(Step(line));
  ++call_depth_;
  Scope scope(&caller);
  std::string out;
  absl::Status st = BindArguments(stmt, absl::StrCat("'", stmt.name, "'"), args, scope, line);
  if (st.ok()) st = ExecBlock(stmt.body, scope, out);
  --call_depth_;
  RETURN_IF_ERROR(st);
  return Value::String(std::move(out));
}

absl::StatusOr<Value> Interpreter::InvokeCallBlock(const Stmt& stmt, std::vector<Value>& args,
                                                   Scope& defining, int line) {
  if (call_depth_ >= options_.max_call_depth) {
    return LineError(line, absl::StrCat("calls nested deeper than ", options_.max_call_depth));
  }
  RETURN_IF_ERROR(Step(line));
  ++call_depth_;
  Scope scope(&defining);
  std::string out;
  absl::Status st = BindArguments(stmt, "None", args, scope, line);
  if (st.ok()) st = ExecBlock(stmt.body, scope, out);
  --call_depth_;
  RETURN_IF_ERROR(st);
  return Value::String(std::move(out));
}

}  // namespace sllm::tokenizer::jinja
