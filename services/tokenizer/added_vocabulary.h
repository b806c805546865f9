// Added tokens (special or not) and how they are cut out of the input before the model runs:
// leftmost-longest matching of the raw text for non-normalized tokens, then of the normalized
// text for normalized ones, honouring lstrip, rstrip and single_word as `tokenizers` does.
#ifndef SLLM_SERVICES_TOKENIZER_ADDED_VOCABULARY_H_
#define SLLM_SERVICES_TOKENIZER_ADDED_VOCABULARY_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/normalized_string.h"
#include "services/tokenizer/normalizer.h"

namespace sllm::tokenizer {

struct AddedToken {
  uint32_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A piece of the input: either an added token (token_id set) or text for the model.
struct Segment {
  NormalizedString text;
  std::optional<uint32_t> token_id;
};

class AddedVocabulary {
 public:
  // `tokens` from tokenizer.json's "added_tokens"; `normalizer` (may be null) normalizes the
  // contents of normalized tokens and the text between non-normalized ones.
  static absl::StatusOr<AddedVocabulary> Build(std::vector<AddedToken> tokens,
                                               const Normalizer* normalizer);

  // Splits `text` (starting at original byte 0) into segments; text segments come out
  // normalized. `track` keeps alignments for offsets.
  absl::Status Extract(std::string_view text, const Normalizer* normalizer, bool track,
                       std::vector<Segment>& out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }
  const AddedToken* FindById(uint32_t id) const;
  std::optional<uint32_t> FindByContent(std::string_view content) const;

 private:
  // A byte trie over token contents for leftmost-longest matching.
  class Matcher {
   public:
    void Add(std::string_view pattern, uint32_t token_index);
    bool empty() const { return nodes_.size() <= 1; }
    // Longest pattern starting at `pos`: (length, token index), or length 0.
    std::pair<size_t, uint32_t> LongestAt(std::string_view text, size_t pos) const;
    bool MayStartWith(uint8_t b) const { return first_[b]; }

   private:
    struct Node {
      std::vector<std::pair<uint8_t, uint32_t>> children;  // Sorted by byte.
      int64_t token = -1;
    };
    std::vector<Node> nodes_{Node{}};
    std::array<bool, 256> first_{};
  };

  // Cuts matches of `matcher` out of `piece`, appending segments.
  void SplitOn(NormalizedString piece, const Matcher& matcher, std::vector<Segment>& out) const;

  std::vector<AddedToken> tokens_;
  absl::flat_hash_map<uint32_t, size_t> by_id_;
  absl::flat_hash_map<std::string, uint32_t> by_content_;
  Matcher raw_;
  Matcher normalized_;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_ADDED_VOCABULARY_H_
