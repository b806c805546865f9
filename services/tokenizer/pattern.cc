#include "services/tokenizer/pattern.h"

#include "absl/strings/str_cat.h"

namespace sllm::tokenizer {

absl::StatusOr<Pattern> Pattern::FromJson(const nlohmann::json& j) {
  Pattern p;
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    p.literal_ = j["String"].get<std::string>();
    return p;
  }
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) {
    auto re = Regex::Compile(j["Regex"].get<std::string>());
    if (!re.ok()) return re.status();
    p.regex_ = std::move(*re);
    return p;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("pattern must be {\"String\": ...} or {\"Regex\": ...}, got ", j.dump()));
}

Pattern Pattern::Literal(std::string literal) {
  Pattern p;
  p.literal_ = std::move(literal);
  return p;
}

absl::Status Pattern::FindMatches(std::string_view text, std::vector<PatternSplit>& out) const {
  out.clear();
  if (text.empty() || (!regex_ && literal_.empty())) {
    out.push_back({0, text.size(), false});
    return absl::OkStatus();
  }
  size_t prev = 0;
  absl::Status st = ForEachMatch(text, [&](size_t s, size_t e) {
    if (prev != s) out.push_back({prev, s, false});
    out.push_back({s, e, true});
    prev = e;
  });
  if (!st.ok()) return st;
  if (prev != text.size()) out.push_back({prev, text.size(), false});
  return absl::OkStatus();
}

}  // namespace sllm::tokenizer
