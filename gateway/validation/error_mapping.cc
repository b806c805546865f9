#include "gateway/validation/error_mapping.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace sllm::gateway {
namespace {

constexpr char kKindUrl[] = "type.sllm.dev/error_kind";
constexpr char kRetryUrl[] = "type.sllm.dev/retry_after_seconds";

// One row per absl code, plus the 413 special case.
const ErrorMapping kTooLarge{grpc::StatusCode::RESOURCE_EXHAUSTED, 413, "invalid_request_error",
                             "request_too_large"};

const ErrorMapping& ForCode(absl::StatusCode code) {
  static const ErrorMapping kInvalid{grpc::StatusCode::INVALID_ARGUMENT, 400,
                                     "invalid_request_error", "invalid_value"};
  static const ErrorMapping kFailedPrecondition{grpc::StatusCode::FAILED_PRECONDITION, 400,
                                                "invalid_request_error", "unsupported"};
  static const ErrorMapping kOutOfRange{grpc::StatusCode::OUT_OF_RANGE, 400,
                                        "invalid_request_error", "invalid_value"};
  static const ErrorMapping kUnauthenticated{grpc::StatusCode::UNAUTHENTICATED, 401,
                                             "authentication_error", "invalid_api_key"};
  static const ErrorMapping kPermission{grpc::StatusCode::PERMISSION_DENIED, 403,
                                        "permission_error", "forbidden"};
  static const ErrorMapping kNotFound{grpc::StatusCode::NOT_FOUND, 404, "invalid_request_error",
                                      "model_not_found"};
  static const ErrorMapping kCancelled{grpc::StatusCode::CANCELLED, 499, "cancelled", "cancelled"};
  static const ErrorMapping kExhausted{grpc::StatusCode::RESOURCE_EXHAUSTED, 429,
                                       "rate_limit_error", "overloaded"};
  static const ErrorMapping kUnavailable{grpc::StatusCode::UNAVAILABLE, 503, "server_error",
                                         "unavailable"};
  static const ErrorMapping kDeadline{grpc::StatusCode::DEADLINE_EXCEEDED, 504, "timeout",
                                      "deadline_exceeded"};
  static const ErrorMapping kUnimplemented{grpc::StatusCode::UNIMPLEMENTED, 501,
                                           "invalid_request_error", "not_implemented"};
  static const ErrorMapping kInternal{grpc::StatusCode::INTERNAL, 500, "server_error",
                                      "internal_error"};
  switch (code) {
    case absl::StatusCode::kInvalidArgument: return kInvalid;
    case absl::StatusCode::kFailedPrecondition: return kFailedPrecondition;
    case absl::StatusCode::kOutOfRange: return kOutOfRange;
    case absl::StatusCode::kUnauthenticated: return kUnauthenticated;
    case absl::StatusCode::kPermissionDenied: return kPermission;
    case absl::StatusCode::kNotFound: return kNotFound;
    case absl::StatusCode::kCancelled: return kCancelled;
    case absl::StatusCode::kResourceExhausted: return kExhausted;
    case absl::StatusCode::kUnavailable: return kUnavailable;
    case absl::StatusCode::kDeadlineExceeded: return kDeadline;
    case absl::StatusCode::kUnimplemented: return kUnimplemented;
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    default:
      return kInternal;
  }
}

}  // namespace

const ErrorMapping& MapError(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kResourceExhausted) {
    auto kind = status.GetPayload(kKindUrl);
    if (kind && std::string(*kind) == "payload_too_large") return kTooLarge;
  }
  return ForCode(status.code());
}

absl::Status PayloadTooLargeError(const std::string& message) {
  absl::Status st = absl::ResourceExhaustedError(message);
  st.SetPayload(kKindUrl, absl::Cord("payload_too_large"));
  return st;
}

absl::Status OverloadedError(const std::string& message, int retry_after_seconds) {
  absl::Status st = absl::ResourceExhaustedError(
      absl::StrCat(message, "; retry after ", retry_after_seconds, " s"));
  st.SetPayload(kRetryUrl, absl::Cord(absl::StrCat(retry_after_seconds)));
  return st;
}

int RetryAfterSeconds(const absl::Status& status) {
  auto v = status.GetPayload(kRetryUrl);
  int seconds = 0;
  if (!v || !absl::SimpleAtoi(std::string(*v), &seconds)) return 0;
  return seconds;
}

}  // namespace sllm::gateway
