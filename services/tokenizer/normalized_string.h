// Text under normalization and pre-tokenization, with optional alignment to the original.
#ifndef SLLM_SERVICES_TOKENIZER_NORMALIZED_STRING_H_
#define SLLM_SERVICES_TOKENIZER_NORMALIZED_STRING_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sllm::tokenizer {

// Byte range [first, second) in the caller's original input.
using Range = std::pair<uint32_t, uint32_t>;

// A piece of (possibly normalized) text. When alignments are tracked, every byte of `text()`
// knows the range of the original character it came from, so token offsets can be mapped
// back to the input. Tracking is off unless offsets were asked for: it costs 8 bytes a byte.
class NormalizedString {
 public:
  NormalizedString() = default;
  // `text` starts at byte `origin` of the original input.
  NormalizedString(std::string_view text, uint32_t origin, bool track);

  const std::string& text() const { return text_; }
  bool empty() const { return text_.empty(); }
  bool tracked() const { return tracked_; }
  // True when this piece begins at the start of the original input (Metaspace "first").
  bool at_origin() const { return at_origin_; }

  // Original range covered by normalized bytes [start, end); {0,0} when untracked.
  Range OriginalRange(size_t start, size_t end) const;

  // The piece made of normalized bytes [start, end).
  NormalizedString Slice(size_t start, size_t end) const;

  // Builds a replacement text piece by piece; each appended byte is aligned to `range`.
  class Builder {
   public:
    explicit Builder(const NormalizedString& source);
    void Append(std::string_view bytes, Range range);
    // Appends source bytes [start, end) keeping their own alignments.
    void AppendSource(size_t start, size_t end);
    void Finish(NormalizedString& target);

   private:
    const NormalizedString& source_;
    std::string text_;
    std::vector<Range> align_;
  };

  // Range of the source character starting at byte `pos` (for Builder::Append).
  Range CharRange(size_t pos, size_t len) const;

 private:
  std::string text_;
  std::vector<Range> align_;  // One per byte of text_ when tracked_.
  bool tracked_ = false;
  bool at_origin_ = false;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_NORMALIZED_STRING_H_
