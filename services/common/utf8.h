// UTF-8 well-formedness (Unicode Table 3-7: no overlongs, surrogates or values past U+10FFFF).
// Only absl: the protobuf request parser, the tokenizer and the gateway's validator share it.
#ifndef SLLM_SERVICES_COMMON_UTF8_H_
#define SLLM_SERVICES_COMMON_UTF8_H_

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/status.h"

namespace sllm {

// Length of the well-formed UTF-8 sequence that starts at `pos` (pos < s.size()), or 0.
size_t Utf8WellFormedLen(std::string_view s, size_t pos);

// The byte offset of the first byte that is not part of a well-formed UTF-8 sequence, or
// nullopt when `text` is valid UTF-8.
std::optional<size_t> FindInvalidUtf8(std::string_view text);

// OK, or INVALID_ARGUMENT about `field` (see field_error.h) naming it, the first bad byte and
// its offset: "prompt is not valid UTF-8: invalid byte 0x80 at byte offset 2".
absl::Status ValidateUtf8(std::string_view text, std::string_view field);

}  // namespace sllm

#endif  // SLLM_SERVICES_COMMON_UTF8_H_
