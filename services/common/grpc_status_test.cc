#include "services/common/grpc_status.h"

#include <set>
#include <string>

#include "gtest/gtest.h"

namespace sllm {
namespace {

struct CodePair {
  absl::StatusCode absl_code;
  grpc::StatusCode grpc_code;
  const char* name;
};

// Every code of both enums, written out independently of the implementation.
constexpr CodePair kAllCodes[] = {
    {absl::StatusCode::kOk, grpc::StatusCode::OK, "OK"},
    {absl::StatusCode::kCancelled, grpc::StatusCode::CANCELLED, "CANCELLED"},
    {absl::StatusCode::kUnknown, grpc::StatusCode::UNKNOWN, "UNKNOWN"},
    {absl::StatusCode::kInvalidArgument, grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT"},
    {absl::StatusCode::kDeadlineExceeded, grpc::StatusCode::DEADLINE_EXCEEDED,
     "DEADLINE_EXCEEDED"},
    {absl::StatusCode::kNotFound, grpc::StatusCode::NOT_FOUND, "NOT_FOUND"},
    {absl::StatusCode::kAlreadyExists, grpc::StatusCode::ALREADY_EXISTS, "ALREADY_EXISTS"},
    {absl::StatusCode::kPermissionDenied, grpc::StatusCode::PERMISSION_DENIED,
     "PERMISSION_DENIED"},
    {absl::StatusCode::kResourceExhausted, grpc::StatusCode::RESOURCE_EXHAUSTED,
     "RESOURCE_EXHAUSTED"},
    {absl::StatusCode::kFailedPrecondition, grpc::StatusCode::FAILED_PRECONDITION,
     "FAILED_PRECONDITION"},
    {absl::StatusCode::kAborted, grpc::StatusCode::ABORTED, "ABORTED"},
    {absl::StatusCode::kOutOfRange, grpc::StatusCode::OUT_OF_RANGE, "OUT_OF_RANGE"},
    {absl::StatusCode::kUnimplemented, grpc::StatusCode::UNIMPLEMENTED, "UNIMPLEMENTED"},
    {absl::StatusCode::kInternal, grpc::StatusCode::INTERNAL, "INTERNAL"},
    {absl::StatusCode::kUnavailable, grpc::StatusCode::UNAVAILABLE, "UNAVAILABLE"},
    {absl::StatusCode::kDataLoss, grpc::StatusCode::DATA_LOSS, "DATA_LOSS"},
    {absl::StatusCode::kUnauthenticated, grpc::StatusCode::UNAUTHENTICATED, "UNAUTHENTICATED"},
};

TEST(GrpcStatusTest, TableCoversEveryCodeOnce) {
  std::set<int> absl_codes;
  std::set<int> grpc_codes;
  for (const CodePair& pair : kAllCodes) {
    absl_codes.insert(static_cast<int>(pair.absl_code));
    grpc_codes.insert(static_cast<int>(pair.grpc_code));
  }
  EXPECT_EQ(absl_codes.size(), 17u);
  EXPECT_EQ(grpc_codes.size(), 17u);
  EXPECT_EQ(*grpc_codes.rbegin(), 16);  // UNAUTHENTICATED is the highest code.
}

TEST(GrpcStatusTest, CodesMapBothWays) {
  for (const CodePair& pair : kAllCodes) {
    SCOPED_TRACE(pair.name);
    EXPECT_EQ(ToGrpcCode(pair.absl_code), pair.grpc_code);
    EXPECT_EQ(FromGrpcCode(pair.grpc_code), pair.absl_code);
    EXPECT_EQ(GrpcCodeName(pair.grpc_code), pair.name);
  }
}

TEST(GrpcStatusTest, StatusesKeepCodeAndMessageBothWays) {
  for (const CodePair& pair : kAllCodes) {
    if (pair.absl_code == absl::StatusCode::kOk) continue;
    SCOPED_TRACE(pair.name);
    const std::string message = std::string("failed: ") + pair.name + " \xEC\x95\x88 \n";
    grpc::Status to = ToGrpcStatus(absl::Status(pair.absl_code, message));
    EXPECT_EQ(to.error_code(), pair.grpc_code);
    EXPECT_EQ(to.error_message(), message);
    absl::Status from = FromGrpcStatus(grpc::Status(pair.grpc_code, message));
    EXPECT_EQ(from.code(), pair.absl_code);
    EXPECT_EQ(from.message(), message);
    EXPECT_EQ(FromGrpcStatus(ToGrpcStatus(from)), from);
  }
}

TEST(GrpcStatusTest, OkStatusesAreOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status(grpc::StatusCode::OK, "ignored")).ok());
}

TEST(GrpcStatusTest, OutOfRangeValuesBecomeUnknown) {
  EXPECT_EQ(ToGrpcCode(static_cast<absl::StatusCode>(99)), grpc::StatusCode::UNKNOWN);
  EXPECT_EQ(FromGrpcCode(grpc::StatusCode::DO_NOT_USE), absl::StatusCode::kUnknown);
  EXPECT_EQ(FromGrpcCode(static_cast<grpc::StatusCode>(99)), absl::StatusCode::kUnknown);
  EXPECT_EQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "UNKNOWN");
}

}  // namespace
}  // namespace sllm
