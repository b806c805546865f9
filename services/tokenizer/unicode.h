// UTF-8 and Unicode-property helpers. Character data comes from ICU; no hand-made tables.
#ifndef SLLM_SERVICES_TOKENIZER_UNICODE_H_
#define SLLM_SERVICES_TOKENIZER_UNICODE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/common/utf8.h"

namespace sllm::tokenizer {

// Well-formedness checks live in services/common/utf8.h.
using ::sllm::FindInvalidUtf8;
using ::sllm::ValidateUtf8;

// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for invalid leads).
inline size_t Utf8SeqLen(uint8_t lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// Decodes the code point at `pos` of valid UTF-8 text and advances `pos`.
char32_t DecodeUtf8(std::string_view text, size_t& pos);

// Appends the UTF-8 encoding of `cp`.
void AppendUtf8(char32_t cp, std::string& out);

// Converts bytes to text the way Rust's String::from_utf8_lossy does: each maximal invalid
// subsequence becomes one U+FFFD.
std::string Utf8Lossy(std::string_view bytes);

// Character classes with the meaning Rust's `char` methods and regex classes give them.
bool IsWhitespace(char32_t cp);    // White_Space property (Rust char::is_whitespace).
bool IsAlphanumeric(char32_t cp);  // Alphabetic or Numeric (Rust char::is_alphanumeric).
bool IsWordChar(char32_t cp);      // Unicode \w: Alphabetic, M, Nd, Pc, Join_Control.
bool IsPunctuation(char32_t cp);   // ASCII punctuation or general category P*.
bool IsNumeric(char32_t cp);       // General category N*.
bool IsControl(char32_t cp);       // General category Cc.
bool IsCjk(char32_t cp);           // The CJK ranges BERT treats as words of their own.
bool IsMark(char32_t cp);          // General category M*.

// Full Unicode lowercase mapping of one code point (may yield several code points).
std::u32string ToLowerFull(char32_t cp);

enum class NormalizationForm { kNfc, kNfd, kNfkc, kNfkd };

// Applies a Unicode normalization form to valid UTF-8 text.
std::string Normalize(std::string_view text, NormalizationForm form);

// True when a normalization boundary lies before `cp` for `form` (ICU hasBoundaryBefore):
// text can be normalized independently on either side of such a boundary.
bool HasNormalizationBoundaryBefore(char32_t cp, NormalizationForm form);

// Fast check: the text is already in `form` (quick check YES).
bool IsNormalized(std::string_view text, NormalizationForm form);

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_UNICODE_H_
