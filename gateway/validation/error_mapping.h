// The one table that turns an error into a gRPC code, an HTTP status and an OpenAI error
// body type. Every front door (gRPC, HTTP) maps errors through it.
#ifndef SLLM_GATEWAY_VALIDATION_ERROR_MAPPING_H_
#define SLLM_GATEWAY_VALIDATION_ERROR_MAPPING_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sllm::gateway {

struct ErrorMapping {
  grpc::StatusCode grpc_code;
  int http_status;
  // OpenAI error "type" and "code".
  const char* openai_type;
  const char* openai_code;
};

// The mapping of `status` (which must not be OK).
const ErrorMapping& MapError(const absl::Status& status);

// RESOURCE_EXHAUSTED marked as "request too large" (HTTP 413 instead of 429).
absl::Status PayloadTooLargeError(const std::string& message);

// RESOURCE_EXHAUSTED for overload, with a retry hint in seconds (HTTP 429 + Retry-After).
absl::Status OverloadedError(const std::string& message, int retry_after_seconds);

// The retry hint of an OverloadedError, or 0.
int RetryAfterSeconds(const absl::Status& status);

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_VALIDATION_ERROR_MAPPING_H_
