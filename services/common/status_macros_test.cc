#include "services/common/status_macros.h"

#include <memory>
#include <string>
#include <utility>

#include "gtest/gtest.h"

namespace sllm {
namespace {

absl::Status Fail(int* calls) {
  ++*calls;
  return absl::InvalidArgumentError("bad");
}

absl::Status Succeed(int* calls) {
  ++*calls;
  return absl::OkStatus();
}

absl::StatusOr<int> Number(bool ok) {
  if (!ok) return absl::NotFoundError("no number");
  return 42;
}

absl::StatusOr<std::unique_ptr<int>> Boxed(int value) { return std::make_unique<int>(value); }

absl::StatusOr<std::pair<int, std::string>> Pair() { return std::make_pair(7, std::string("x")); }

TEST(ReturnIfErrorTest, ContinuesOnOkAndEvaluatesOnce) {
  int calls = 0;
  auto body = [&]() -> absl::Status {
    RETURN_IF_ERROR(Succeed(&calls));
    RETURN_IF_ERROR(Succeed(&calls));
    return absl::OkStatus();
  };
  EXPECT_TRUE(body().ok());
  EXPECT_EQ(calls, 2);
}

TEST(ReturnIfErrorTest, ReturnsTheErrorAndStops) {
  int calls = 0;
  auto body = [&]() -> absl::Status {
    RETURN_IF_ERROR(Fail(&calls));
    RETURN_IF_ERROR(Succeed(&calls));
    return absl::OkStatus();
  };
  absl::Status status = body();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "bad");
  EXPECT_EQ(calls, 1);
}

TEST(ReturnIfErrorTest, AcceptsStatusOrAndWorksInStatusOrFunctions) {
  auto body = [](bool ok) -> absl::StatusOr<std::string> {
    RETURN_IF_ERROR(Number(ok));
    const absl::StatusOr<int> lvalue = Number(ok);
    RETURN_IF_ERROR(lvalue);
    return std::string("done");
  };
  EXPECT_EQ(*body(true), "done");
  EXPECT_EQ(body(false).status().code(), absl::StatusCode::kNotFound);
}

TEST(ReturnIfErrorTest, WorksAsUnbracedIfBody) {
  auto body = [](bool check) -> absl::Status {
    if (check)
      RETURN_IF_ERROR(Number(false));
    else
      return absl::AbortedError("else");
    return absl::OkStatus();
  };
  EXPECT_EQ(body(true).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(body(false).code(), absl::StatusCode::kAborted);
}

TEST(AssignOrReturnTest, DeclaresAndAssigns) {
  auto body = [](bool ok) -> absl::StatusOr<int> {
    ASSIGN_OR_RETURN(int value, Number(ok));
    int existing = 0;
    ASSIGN_OR_RETURN(existing, Number(ok));
    return value + existing;
  };
  EXPECT_EQ(*body(true), 84);
  absl::StatusOr<int> failed = body(false);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(failed.status().message(), "no number");
}

TEST(AssignOrReturnTest, MovesMoveOnlyValues) {
  auto body = []() -> absl::Status {
    ASSIGN_OR_RETURN(std::unique_ptr<int> boxed, Boxed(5));
    ASSIGN_OR_RETURN(auto again, Boxed(*boxed + 1));
    if (*again != 6) return absl::InternalError("wrong value");
    return absl::OkStatus();
  };
  EXPECT_TRUE(body().ok());
}

TEST(AssignOrReturnTest, ParenthesizedDeclarationWithCommas) {
  auto body = []() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN((std::pair<int, std::string> pair), Pair());
    ASSIGN_OR_RETURN((auto [number, text]), Pair());
    return pair.second + std::to_string(pair.first) + text + std::to_string(number);
  };
  EXPECT_EQ(*body(), "x7x7");
}

template <typename A, typename B>
absl::StatusOr<int> Sum(A a, B b) {
  return static_cast<int>(a + b);
}

TEST(StatusMacrosTest, ExpressionsMayContainCommas) {
  auto body = []() -> absl::StatusOr<int> {
    int x = 1, y = 2;
    RETURN_IF_ERROR(Sum<int, int>(x, y));
    RETURN_IF_ERROR([x, y]() -> absl::Status {
      return x < y ? absl::OkStatus() : absl::InternalError("order");
    }());
    ASSIGN_OR_RETURN(int total, Sum<int, long>(x, y));
    return total;
  };
  EXPECT_EQ(*body(), 3);
}

TEST(AssignOrReturnTest, TwoOnOneLineDoNotCollide) {
  auto body = []() -> absl::StatusOr<int> {
    // clang-format off
    ASSIGN_OR_RETURN(int a, Number(true)); ASSIGN_OR_RETURN(int b, Number(true));
    // clang-format on
    return a + b;
  };
  EXPECT_EQ(*body(), 84);
}

}  // namespace
}  // namespace sllm
