// Conversion between absl::Status (inside a process) and grpc::Status (at service edges).
// Codes map one to one (both follow google.rpc.Code); messages are kept unchanged.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace sllm {

// The gRPC code with the same meaning as `code`; UNKNOWN for values outside the enum.
grpc::StatusCode ToGrpcCode(absl::StatusCode code);

// The absl code with the same meaning as `code`; kUnknown for values outside the enum.
absl::StatusCode FromGrpcCode(grpc::StatusCode code);

// `status` as a grpc::Status with the same code and message (an OK status has no message).
grpc::Status ToGrpcStatus(const absl::Status& status);

// `status` as an absl::Status with the same code and message (an OK status has no message).
absl::Status FromGrpcStatus(const grpc::Status& status);

// The canonical upper-case name of a gRPC code ("OK", "INVALID_ARGUMENT", ...), as used in
// metric labels and logs; "UNKNOWN" for values outside the enum.
std::string_view GrpcCodeName(grpc::StatusCode code);

}  // namespace sllm
