// Post-processors of tokenizer.json: TemplateProcessing, ByteLevel, RobertaProcessing,
// BertProcessing and Sequence. They add special tokens (BOS, CLS/SEP) when the caller asks
// for add_special_tokens; ByteLevel's offset trimming does not change ids.
#ifndef SLLM_SERVICES_TOKENIZER_POST_PROCESSOR_H_
#define SLLM_SERVICES_TOKENIZER_POST_PROCESSOR_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "services/tokenizer/normalized_string.h"

namespace sllm::tokenizer {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adds special tokens around one sequence. `offsets` may be null (not tracked);
  // added tokens get the empty range {0, 0}.
  virtual void Process(std::vector<uint32_t>& ids, std::vector<Range>* offsets) const = 0;
};

// Null JSON gives nullptr (none). An unsupported type fails with its name.
absl::StatusOr<std::unique_ptr<PostProcessor>> PostProcessorFromJson(const nlohmann::json& j);

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_POST_PROCESSOR_H_
