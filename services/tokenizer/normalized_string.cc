#include "services/tokenizer/normalized_string.h"

#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {

NormalizedString::NormalizedString(std::string_view text, uint32_t origin, bool track)
    : text_(text), tracked_(track), at_origin_(origin == 0) {
  if (!track) return;
  align_.resize(text_.size());
  size_t pos = 0;
  while (pos < text_.size()) {
    const size_t len = Utf8SeqLen(static_cast<uint8_t>(text_[pos]));
    const Range r{origin + static_cast<uint32_t>(pos), origin + static_cast<uint32_t>(pos + len)};
    for (size_t i = 0; i < len && pos + i < text_.size(); ++i) align_[pos + i] = r;
    pos += len;
  }
}

Range NormalizedString::OriginalRange(size_t start, size_t end) const {
  if (!tracked_ || start >= end || end > align_.size()) return {0, 0};
  return {align_[start].first, align_[end - 1].second};
}

Range NormalizedString::CharRange(size_t pos, size_t len) const {
  if (!tracked_ || align_.empty()) return {0, 0};
  if (pos >= align_.size()) return {align_.back().second, align_.back().second};
  return {align_[pos].first, align_[pos + len - 1].second};
}

NormalizedString NormalizedString::Slice(size_t start, size_t end) const {
  NormalizedString out;
  out.text_ = text_.substr(start, end - start);
  out.tracked_ = tracked_;
  out.at_origin_ = at_origin_ && start == 0;
  if (tracked_) out.align_.assign(align_.begin() + start, align_.begin() + end);
  return out;
}

NormalizedString::Builder::Builder(const NormalizedString& source) : source_(source) {
  text_.reserve(source.text_.size() + 8);
  if (source.tracked_) align_.reserve(source.text_.size() + 8);
}

void NormalizedString::Builder::Append(std::string_view bytes, Range range) {
  text_.append(bytes);
  if (source_.tracked_) align_.insert(align_.end(), bytes.size(), range);
}

void NormalizedString::Builder::AppendSource(size_t start, size_t end) {
  text_.append(source_.text_, start, end - start);
  if (source_.tracked_) {
    align_.insert(align_.end(), source_.align_.begin() + start, source_.align_.begin() + end);
  }
}

void NormalizedString::Builder::Finish(NormalizedString& target) {
  target.text_ = std::move(text_);
  target.align_ = std::move(align_);
}

}  // namespace sllm::tokenizer
