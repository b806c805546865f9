// A Hugging Face tokenizer loaded from tokenizer.json: normalizer, added tokens,
// pre-tokenizer, BPE model, post-processor and decoder, producing exactly the ids and text of
// Hugging Face `tokenizers`.
#ifndef SLLM_SERVICES_TOKENIZER_TOKENIZER_H_
#define SLLM_SERVICES_TOKENIZER_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "services/tokenizer/added_vocabulary.h"
#include "services/tokenizer/bpe_model.h"
#include "services/tokenizer/decoder.h"
#include "services/tokenizer/normalizer.h"
#include "services/tokenizer/post_processor.h"
#include "services/tokenizer/pre_tokenizer.h"

namespace sllm::tokenizer {

struct EncodeOptions {
  // Run the post-processor (BOS/EOS templates), as `tokenizers`' add_special_tokens.
  bool add_special_tokens = true;
  // Also compute each token's byte range in the input.
  bool return_offsets = false;
};

struct Encoding {
  std::vector<uint32_t> ids;
  // Byte ranges [start, end) in the input, one per id, when asked for; tokens added by the
  // post-processor have {0, 0}.
  std::vector<Range> offsets;
};

class Tokenizer {
 public:
  // Parses tokenizer.json text. Unsupported components fail with their type name.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromJson(std::string_view json_text);
  static absl::StatusOr<std::unique_ptr<Tokenizer>> FromFile(const std::string& path);

  // Encodes UTF-8 `text`; text that is not valid UTF-8 is INVALID_ARGUMENT (see ValidateUtf8).
  absl::StatusOr<Encoding> Encode(std::string_view text, const EncodeOptions& options) const;

  // Decodes ids to text. An id outside the vocabulary is INVALID_ARGUMENT naming it.
  absl::StatusOr<std::string> Decode(absl::Span<const uint32_t> ids,
                                     bool skip_special_tokens) const;

  // The token string of `id` (added token content or model token), or nullptr.
  const std::string* IdToToken(uint32_t id) const;
  std::optional<uint32_t> TokenToId(std::string_view token) const;
  bool IsSpecial(uint32_t id) const { return special_ids_.contains(id); }
  // One past the largest id (model or added): the embedding rows a model needs.
  uint32_t vocab_size() const { return vocab_size_; }
  const std::vector<AddedToken>& added_tokens() const { return added_.tokens(); }

  // Runs the decoder chain on token strings; `continuation` decodes tokens that follow an
  // already decoded prefix at a clean cut (see decoder.h).
  std::string DecodeTokens(std::vector<std::string> tokens, bool continuation) const;
  // Whether DecodeTokens(..., continuation=true) is exact for this decoder chain.
  bool SupportsContinuation() const;
  // Whether `id` is a byte-fallback token "<0xXX>" that the decoder groups with its
  // neighbours.
  bool IsByteToken(uint32_t id) const;

 private:
  Tokenizer() = default;
  absl::Status TokenizeSegment(const NormalizedString& segment, bool track, Encoding& out) const;

  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<PostProcessor> post_processor_;
  std::unique_ptr<Decoder> decoder_;
  AddedVocabulary added_;
  absl::flat_hash_set<uint32_t> special_ids_;
  std::vector<bool> byte_tokens_;  // By id: decoder treats it as a fallback byte.
  uint32_t vocab_size_ = 0;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_TOKENIZER_H_
