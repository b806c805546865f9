// The `pattern` of Split pre-tokenizers and Replace normalizers/decoders: a literal string or
// a regex, as tokenizer.json spells it ({"String": ...} or {"Regex": ...}).
#ifndef SLLM_SERVICES_TOKENIZER_PATTERN_H_
#define SLLM_SERVICES_TOKENIZER_PATTERN_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/regex.h"

namespace sllm::tokenizer {

// A piece of the input and whether it is a match.
struct PatternSplit {
  size_t start;
  size_t end;
  bool is_match;
};

class Pattern {
 public:
  static absl::StatusOr<Pattern> FromJson(const nlohmann::json& j);
  static Pattern Literal(std::string literal);

  // Splits `text` into consecutive pieces covering it, matches and non-matches, like
  // `tokenizers`' Pattern::find_matches (an empty text yields one empty non-match).
  absl::Status FindMatches(std::string_view text, std::vector<PatternSplit>& out) const;

  // Calls fn(start, end) for every match.
  template <typename Fn>
  absl::Status ForEachMatch(std::string_view text, Fn&& fn) const {
    if (regex_) return regex_->ForEachMatch(text, fn);
    if (literal_.empty()) return absl::OkStatus();
    for (size_t pos = text.find(literal_); pos != std::string_view::npos;
         pos = text.find(literal_, pos + literal_.size())) {
      fn(pos, pos + literal_.size());
    }
    return absl::OkStatus();
  }

 private:
  std::string literal_;
  std::shared_ptr<const Regex> regex_;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_PATTERN_H_
