// Streams text for a sequence of token ids fed one at a time. Every delta is valid UTF-8 and
// the deltas join to exactly Tokenizer::Decode of all ids: text that a later token could still
// change (an incomplete UTF-8 sequence, an open run of byte-fallback tokens) is held back
// until it is settled or Finish() is called.
#ifndef SLLM_SERVICES_TOKENIZER_INCREMENTAL_DETOKENIZER_H_
#define SLLM_SERVICES_TOKENIZER_INCREMENTAL_DETOKENIZER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/tokenizer/tokenizer.h"

namespace sllm::tokenizer {

class IncrementalDetokenizer {
 public:
  // `tokenizer` must outlive this object.
  IncrementalDetokenizer(const Tokenizer& tokenizer, bool skip_special_tokens);

  // Adds one id; returns the text that is now settled (often empty). An id outside the
  // vocabulary is INVALID_ARGUMENT and leaves the state unchanged.
  absl::StatusOr<std::string> Add(uint32_t id);

  // Returns all text still held back; the stream is then complete.
  std::string Finish();

  // Bytes emitted so far.
  size_t emitted_bytes() const { return total_emitted_; }

 private:
  std::string Decode(size_t count) const;
  std::string Emit(const std::string& text, size_t safe_len);

  const Tokenizer& tokenizer_;
  const bool skip_special_;
  const bool continuation_ok_;
  // Tokens since the last clean cut, and whether each is a fallback byte.
  std::vector<std::string> pending_;
  std::vector<bool> pending_bytes_;
  bool at_start_ = true;     // No cut has happened yet.
  bool in_byte_run_ = false;  // pending_ ends in a run of byte tokens, ...
  std::string before_run_;    // ... and this is the decode of the tokens before it.
  size_t emitted_ = 0;       // Bytes of decode(pending_) already emitted.
  size_t total_emitted_ = 0;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_INCREMENTAL_DETOKENIZER_H_
