#include "services/common/utf8.h"

#include "gtest/gtest.h"
#include "services/common/field_error.h"

namespace sllm {
namespace {

TEST(Utf8Test, FindsFirstInvalidByte) {
  EXPECT_EQ(FindInvalidUtf8("hello 안녕"), std::nullopt);
  EXPECT_EQ(FindInvalidUtf8("abc\xFF"), 3u);
  EXPECT_EQ(FindInvalidUtf8("\xED\xA0\x80"), 0u);      // Surrogate.
  EXPECT_EQ(FindInvalidUtf8("ab\xC0\x80"), 2u);        // Overlong.
  EXPECT_EQ(FindInvalidUtf8("\xF4\x90\x80\x80"), 0u);  // Past U+10FFFF.
  EXPECT_EQ(FindInvalidUtf8("abcdefghij\xE1\x80"), 10u);  // Truncated after the ASCII fast path.
  EXPECT_EQ(Utf8WellFormedLen("\xF0\x9F\x98\x80", 0), 4u);
  EXPECT_EQ(Utf8WellFormedLen("\xE1\x80", 0), 0u);
}

TEST(Utf8Test, ValidateNamesFieldAndOffset) {
  const absl::Status st = ValidateUtf8("ok\x80", "prompt");
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "prompt is not valid UTF-8: invalid byte 0x80 at byte offset 2");
  EXPECT_EQ(ErrorField(st), "prompt");
  EXPECT_TRUE(ValidateUtf8("한국어", "prompt").ok());
}

}  // namespace
}  // namespace sllm
