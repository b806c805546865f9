#include "services/common/field_error.h"

#include "gtest/gtest.h"

namespace sllm {
namespace {

TEST(FieldErrorTest, CarriesTheFieldBesideTheMessage) {
  const absl::Status st = FieldError("top_p", "top_p must be in (0, 1], got 2");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "top_p must be in (0, 1], got 2");
  EXPECT_EQ(ErrorField(st), "top_p");
}

TEST(FieldErrorTest, WithFieldKeepsCodeMessageAndAnEarlierField) {
  const absl::Status big = WithField(absl::ResourceExhaustedError("prompt too large"), "prompt");
  EXPECT_EQ(big.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(big.message(), "prompt too large");
  EXPECT_EQ(ErrorField(big), "prompt");
  // The innermost field wins: "messages[2].content" is not overwritten by "messages".
  EXPECT_EQ(ErrorField(WithField(FieldError("messages[2].content", "bad"), "messages")),
            "messages[2].content");
  EXPECT_TRUE(WithField(absl::OkStatus(), "x").ok());
  EXPECT_EQ(ErrorField(absl::InvalidArgumentError("no field")), "");
}

}  // namespace
}  // namespace sllm
