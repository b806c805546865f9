// Normalizers of tokenizer.json: NFC, NFD, NFKC, NFKD, Lowercase, Strip, Replace, Prepend,
// BertNormalizer and Sequence, with the semantics of Hugging Face `tokenizers`.
#ifndef SLLM_SERVICES_TOKENIZER_NORMALIZER_H_
#define SLLM_SERVICES_TOKENIZER_NORMALIZER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/normalized_string.h"

namespace sllm::tokenizer {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Normalizes `s` in place. Fails only on resource exhaustion (regex limits).
  virtual absl::Status Normalize(NormalizedString& s) const = 0;
};

// Builds a normalizer from its tokenizer.json object; null JSON gives nullptr (none).
// An unsupported type fails with its name.
absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const nlohmann::json& j);

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_NORMALIZER_H_
