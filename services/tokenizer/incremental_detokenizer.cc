#include "services/tokenizer/incremental_detokenizer.h"

#include "absl/strings/str_cat.h"

namespace sllm::tokenizer {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool EndsWithReplacement(const std::string& s, size_t len) {
  return len >= 3 && s.compare(len - 3, 3, kReplacement) == 0;
}

}  // namespace

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tokenizer,
                                               bool skip_special_tokens)
    : tokenizer_(tokenizer),
      skip_special_(skip_special_tokens),
      continuation_ok_(tokenizer.SupportsContinuation()) {}

std::string IncrementalDetokenizer::Decode(size_t count) const {
  std::vector<std::string> tokens(pending_.begin(), pending_.begin() + count);
  return tokenizer_.DecodeTokens(std::move(tokens), /*continuation=*/!at_start_);
}

std::string IncrementalDetokenizer::Emit(const std::string& text, size_t safe_len) {
  if (safe_len <= emitted_) return "";
  std::string delta = text.substr(emitted_, safe_len - emitted_);
  emitted_ = safe_len;
  total_emitted_ += delta.size();
  return delta;
}

absl::StatusOr<std::string> IncrementalDetokenizer::Add(uint32_t id) {
  const std::string* token = tokenizer_.IdToToken(id);
  if (token == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("token id ", id,
                                                   " is outside the vocabulary (size ",
                                                   tokenizer_.vocab_size(), ")"));
  }
  if (skip_special_ && tokenizer_.IsSpecial(id)) return std::string();
  pending_.push_back(*token);
  pending_bytes_.push_back(tokenizer_.IsByteToken(id));
  if (!continuation_ok_) return std::string();  // Exact only as a whole: emit at Finish().

  if (pending_bytes_.back()) {
    // An open byte run may still turn valid or invalid as a whole (a run with one bad byte
    // decodes to U+FFFD for each of its bytes): hold it back entirely. What precedes it is
    // settled, and decoded once per run, not once per byte (a long run of byte tokens, such as
    // text in a script the vocabulary lacks, would otherwise cost quadratic time).
    if (!in_byte_run_) {
      in_byte_run_ = true;
      before_run_ = Decode(pending_.size() - 1);
    }
    return Emit(before_run_, before_run_.size());
  }
  in_byte_run_ = false;
  const std::string text = Decode(pending_.size());
  size_t safe = text.size();
  // An incomplete UTF-8 sequence decodes to trailing U+FFFD that more bytes may replace.
  while (EndsWithReplacement(text, safe)) safe -= 3;
  std::string delta = Emit(text, safe);
  // Clean cut: everything so far is final and independent of what follows. While the text
  // is still empty at the start, start-of-text rules (Strip, Metaspace) may not be done.
  if (safe == text.size() && !(at_start_ && text.empty())) {
    pending_.clear();
    pending_bytes_.clear();
    at_start_ = false;
    emitted_ = 0;
  }
  return delta;
}

std::string IncrementalDetokenizer::Finish() {
  const std::string text = Decode(pending_.size());
  std::string delta = Emit(text, text.size());
  pending_.clear();
  pending_bytes_.clear();
  emitted_ = 0;
  in_byte_run_ = false;
  return delta;
}

}  // namespace sllm::tokenizer
