// A compiled PCRE2 regular expression (UTF + UCP, JIT) with Oniguruma-compatible classes.
//
// Hugging Face `tokenizers` runs Split patterns on Oniguruma. PCRE2 agrees with it on \p{..}
// classes, but its UCP `\s` and `\w` differ at the edges (U+0085, combining marks), so the
// pattern is rewritten to spell out Oniguruma's definitions before compiling.
#ifndef SLLM_SERVICES_TOKENIZER_REGEX_H_
#define SLLM_SERVICES_TOKENIZER_REGEX_H_

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sllm::tokenizer {

class Regex {
 public:
  // Compiles `pattern` (Oniguruma/Rust syntax as found in tokenizer.json).
  static absl::StatusOr<std::unique_ptr<Regex>> Compile(std::string_view pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls fn(start, end) for each non-overlapping match in `text` (valid UTF-8), left to
  // right. An empty match advances by one character. Thread-safe. Fails only when the
  // input exhausts the matcher's resources (RESOURCE_EXHAUSTED).
  template <typename Fn>
  absl::Status ForEachMatch(std::string_view text, Fn&& fn) const {
    size_t pos = 0;
    while (pos <= text.size()) {
      std::pair<size_t, size_t> m;
      auto found = Find(text, pos, m);
      if (!found.ok()) return found.status();
      if (!*found) return absl::OkStatus();
      fn(m.first, m.second);
      if (m.second == m.first) {
        if (m.second >= text.size()) return absl::OkStatus();
        pos = m.second + 1;
        while (pos < text.size() && (static_cast<uint8_t>(text[pos]) & 0xC0) == 0x80) ++pos;
      } else {
        pos = m.second;
      }
    }
    return absl::OkStatus();
  }

  // All matches as (start, end) byte offsets.
  absl::StatusOr<std::vector<std::pair<size_t, size_t>>> FindAll(std::string_view text) const;

  const std::string& pattern() const { return pattern_; }

 private:
  Regex() = default;
  // Finds the first match at or after `start`; false when there is none.
  absl::StatusOr<bool> Find(std::string_view text, size_t start,
                            std::pair<size_t, size_t>& match) const;

  std::string pattern_;
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

// Rewrites Oniguruma's \s, \S, \w, \W into explicit PCRE2 classes. Exposed for tests.
absl::StatusOr<std::string> TranslateOnigPattern(std::string_view pattern);

// Escapes `literal` so that it matches itself.
std::string QuoteRegex(std::string_view literal);

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_REGEX_H_
