// Pre-tokenizers of tokenizer.json: Split (every behavior, invert), ByteLevel, Metaspace,
// Digits, Punctuation, Whitespace, WhitespaceSplit, CharDelimiterSplit, BertPreTokenizer and
// Sequence, with the semantics of Hugging Face `tokenizers`.
#ifndef SLLM_SERVICES_TOKENIZER_PRE_TOKENIZER_H_
#define SLLM_SERVICES_TOKENIZER_PRE_TOKENIZER_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/normalized_string.h"
#include "services/tokenizer/pattern.h"

namespace sllm::tokenizer {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits (and may rewrite) every piece; empty pieces are dropped.
  virtual absl::Status PreTokenize(std::vector<NormalizedString>& pieces) const = 0;
};

// How the matches of a split pattern are kept (tokenizers' SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

absl::StatusOr<SplitBehavior> SplitBehaviorFromString(const std::string& name);

// Applies `behavior` to a covering list of splits (after `invert`), keeping non-empty pieces
// of `piece` in `out`.
void SplitByBehavior(const NormalizedString& piece, std::vector<PatternSplit>& splits,
                     SplitBehavior behavior, bool invert, std::vector<NormalizedString>& out);

// Null JSON gives nullptr (none). An unsupported type fails with its name.
absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const nlohmann::json& j);

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_PRE_TOKENIZER_H_
