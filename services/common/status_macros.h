// RETURN_IF_ERROR and ASSIGN_OR_RETURN for absl::Status / absl::StatusOr (Debian's Abseil
// 2022-06 ships neither).
//
//   absl::Status Load(const std::string& path) {
//     RETURN_IF_ERROR(CheckPath(path));           // absl::Status or absl::StatusOr<T>
//     ASSIGN_OR_RETURN(std::string text, ReadFile(path));
//     ASSIGN_OR_RETURN(config_, Parse(text));      // assigns to an existing variable
//     ASSIGN_OR_RETURN((std::pair<int, int> range), Range(text));  // commas: parenthesize
//     return absl::OkStatus();
//   }
//
// Both work in any function whose return type is constructible from absl::Status
// (absl::Status, absl::StatusOr<U>).
#pragma once

#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace sllm::status_internal {

inline const absl::Status& AsStatus(const absl::Status& status) { return status; }
inline absl::Status AsStatus(absl::Status&& status) { return std::move(status); }

template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

template <typename T>
absl::Status AsStatus(absl::StatusOr<T>&& status_or) {
  return std::move(status_or).status();
}

}  // namespace sllm::status_internal

// Evaluates `expr` (an absl::Status or absl::StatusOr<T>) once and returns its status from the
// enclosing function when it is not OK. `expr` may contain unparenthesized commas (template
// arguments, lambda captures).
#define RETURN_IF_ERROR(...)                                                    \
  do {                                                                          \
    ::absl::Status sllm_status_macro_status =                                   \
        ::sllm::status_internal::AsStatus(__VA_ARGS__);                         \
    if (ABSL_PREDICT_FALSE(!sllm_status_macro_status.ok())) {                   \
      return sllm_status_macro_status;                                          \
    }                                                                           \
  } while (false)

// Evaluates `rexpr` (an absl::StatusOr<T>) once; on error returns its status from the enclosing
// function, else moves the value into `lhs` (a declaration or an lvalue). Wrap an `lhs` that
// contains commas in parentheses; `rexpr` may contain commas as it is. Expands to several
// statements: do not use it as the body of an unbraced if/else.
#define ASSIGN_OR_RETURN(lhs, ...)                                              \
  SLLM_ASSIGN_OR_RETURN_IMPL_(                                                  \
      SLLM_STATUS_MACRO_CONCAT_(sllm_status_or_, __COUNTER__), lhs, __VA_ARGS__)

#define SLLM_ASSIGN_OR_RETURN_IMPL_(status_or, lhs, ...)                        \
  auto status_or = (__VA_ARGS__);                                               \
  if (ABSL_PREDICT_FALSE(!status_or.ok())) {                                    \
    return std::move(status_or).status();                                       \
  }                                                                             \
  SLLM_STATUS_MACRO_UNPAREN_(lhs) = std::move(status_or).value()

#define SLLM_STATUS_MACRO_CONCAT_INNER_(a, b) a##b
#define SLLM_STATUS_MACRO_CONCAT_(a, b) SLLM_STATUS_MACRO_CONCAT_INNER_(a, b)

// SLLM_STATUS_MACRO_UNPAREN_((a, b)) -> a, b and SLLM_STATUS_MACRO_UNPAREN_(a) -> a: the
// parenthesized form is "called" by SLLM_STATUS_MACRO_EAT_, which leaves a marker token that is
// then pasted into an empty macro name.
#define SLLM_STATUS_MACRO_UNPAREN_(x) \
  SLLM_STATUS_MACRO_ESCAPE_(SLLM_STATUS_MACRO_EAT_ x)
#define SLLM_STATUS_MACRO_EAT_(...) SLLM_STATUS_MACRO_EAT_ __VA_ARGS__
#define SLLM_STATUS_MACRO_ESCAPE_(...) SLLM_STATUS_MACRO_ESCAPE_INNER_(__VA_ARGS__)
#define SLLM_STATUS_MACRO_ESCAPE_INNER_(...) SLLM_STATUS_MACRO_DROP_##__VA_ARGS__
#define SLLM_STATUS_MACRO_DROP_SLLM_STATUS_MACRO_EAT_
