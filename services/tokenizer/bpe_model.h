// The BPE model of tokenizer.json: byte-level (GPT-2 / Llama-3 / Qwen) and SentencePiece-style
// with byte_fallback (Llama-2 / Mistral / Gemma), fuse_unk, ignore_merges,
// continuing_subword_prefix and end_of_word_suffix, merging exactly as `tokenizers` does.
#ifndef SLLM_SERVICES_TOKENIZER_BPE_MODEL_H_
#define SLLM_SERVICES_TOKENIZER_BPE_MODEL_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"

namespace sllm::tokenizer {

// The largest token id a tokenizer.json may use (vocabularies today hold ~260K tokens): tables
// are indexed by id, so a corrupt id must not size them.
inline constexpr int64_t kMaxTokenId = (int64_t{1} << 24) - 1;

// One token of a piece: its id and byte length within the piece.
struct PieceToken {
  uint32_t id;
  uint32_t len;
};

class BpeModel {
 public:
  // Builds from the "model" object of tokenizer.json (type BPE). Errors name the problem.
  static absl::StatusOr<std::unique_ptr<BpeModel>> FromJson(const nlohmann::json& model);

  // Appends the tokens of one pre-tokenized piece. Thread-safe.
  void Tokenize(std::string_view piece, std::vector<PieceToken>& out) const;

  std::optional<uint32_t> TokenToId(std::string_view token) const;
  // The token for `id`, or nullptr when the model has no such id.
  const std::string* IdToToken(uint32_t id) const;
  // One past the largest id of the model's vocabulary.
  uint32_t id_end() const { return static_cast<uint32_t>(vocab_r_.size()); }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  BpeModel() = default;
  void MergeWord(std::string_view piece, std::vector<PieceToken>& out) const;

  absl::flat_hash_map<std::string, uint32_t> vocab_;
  std::vector<std::string> vocab_r_;
  std::vector<bool> has_id_;
  // (left id << 32 | right id) -> (rank, merged id).
  absl::flat_hash_map<uint64_t, std::pair<uint32_t, uint32_t>> merges_;
  std::optional<uint32_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  std::array<int32_t, 256> byte_ids_{};  // Id of "<0xXX>" or -1.

  // Word cache (like tokenizers' BPE cache): pieces shorter than kMaxCachedLen bytes.
  static constexpr size_t kMaxCachedLen = 256;
  static constexpr size_t kCacheShards = 16;
  static constexpr size_t kShardCapacity = 8192;
  struct CacheShard {
    mutable absl::Mutex mu;
    absl::flat_hash_map<std::string, std::vector<PieceToken>> map ABSL_GUARDED_BY(mu);
  };
  mutable std::array<CacheShard, kCacheShards> cache_;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_BPE_MODEL_H_
