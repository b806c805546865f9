// String helpers with the semantics of JavaScript strings, which the reference renderer
// (@huggingface/jinja) uses: JS whitespace for trim/split, UTF-16 lengths and indices, full
// Unicode case mapping, JS number formatting and parsing. Strings here are UTF-8.
#ifndef SLLM_SERVICES_TOKENIZER_JINJA_TEXT_H_
#define SLLM_SERVICES_TOKENIZER_JINJA_TEXT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

namespace sllm::tokenizer::jinja {

// Decodes the code point at `s[*pos]` and advances `*pos`. Invalid bytes decode as U+FFFD
// (one byte each).
char32_t NextCodePoint(absl::string_view s, size_t* pos);
void AppendUtf8(char32_t cp, std::string& out);

// JavaScript's WhiteSpace + LineTerminator set (what /\s/ and String.prototype.trim use).
bool IsJsSpace(char32_t cp);
// Byte length of the JS whitespace at the start of `s` / at the end of `s`.
size_t LeadingJsSpace(absl::string_view s);
size_t TrailingJsSpace(absl::string_view s);
absl::string_view JsTrim(absl::string_view s);
absl::string_view JsTrimStart(absl::string_view s);
absl::string_view JsTrimEnd(absl::string_view s);

// String.prototype.length: UTF-16 code units.
int64_t Utf16Length(absl::string_view s);
// String.prototype.at(index) (negative counts from the end) in UTF-16 units; a lone half of
// a surrogate pair becomes U+FFFD. nullopt when out of range.
std::optional<std::string> Utf16At(absl::string_view s, int64_t index);
// Compares as JS `<` does on strings (UTF-16 code unit order): <0, 0, >0.
int Utf16Compare(absl::string_view a, absl::string_view b);

// String.prototype.toUpperCase / toLowerCase (full, locale-independent case mapping).
std::string JsToUpper(absl::string_view s);
std::string JsToLower(absl::string_view s);

// Number.prototype.toString() for a double: shortest round trip, "1e+21", "1e-7", "NaN".
std::string FormatJsNumber(double v);
// JSON.stringify for numbers: as FormatJsNumber but "null" for NaN and infinities.
std::string FormatJsonNumber(double v);
// JS parseInt(s, 10) / parseFloat(s): nullopt where JS gives NaN.
std::optional<double> JsParseInt(absl::string_view s);
std::optional<double> JsParseFloat(absl::string_view s);
// JS ToNumber(string) (used by loose equality): NaN when not numeric.
double JsStringToNumber(absl::string_view s);

// Returns an error message when `s` is not valid UTF-8, else empty.
std::string Utf8Error(absl::string_view s);

}  // namespace sllm::tokenizer::jinja

#endif  // SLLM_SERVICES_TOKENIZER_JINJA_TEXT_H_
