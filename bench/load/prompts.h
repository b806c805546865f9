// The prompts of a run: synthetic (seeded random token ids, or text of an exact token length
// when a tokenizer is given) or read from a JSON-lines file.
#ifndef SLLM_BENCH_LOAD_PROMPTS_H_
#define SLLM_BENCH_LOAD_PROMPTS_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/load/length_spec.h"
#include "bench/load/request.h"
#include "services/tokenizer/tokenizer.h"

namespace sllm::loadgen {

struct PromptSource {
  // Synthetic prompt lengths in tokens (BOS included for text prompts).
  LengthSpec prompt_len{64, 64};
  // Output lengths of every prompt that does not set its own.
  LengthSpec output_len{128, 128};
  uint64_t seed = 0;
  // JSON lines, each {"prompt": "text"} or {"prompt_ids": [1, 2, ...]}, optionally with
  // "output_len": N. Empty: synthetic prompts.
  std::string file;
  // With a tokenizer, synthetic prompts are text whose encoding has exactly the drawn length,
  // and text prompts of the file get their ids (for worker targets). Not owned.
  const tokenizer::Tokenizer* tokenizer = nullptr;
  // Without a tokenizer, synthetic ids are drawn uniformly below this.
  uint32_t vocab_size = 0;
};

// `count` synthetic prompts, or every prompt of the file (count is then ignored).
absl::StatusOr<std::vector<Prompt>> MakePrompts(const PromptSource& source, size_t count);

// Makes text prompts of exact token lengths from random ordinary tokens (not special, not byte
// fallback) of a tokenizer.
class TextPromptMaker {
 public:
  explicit TextPromptMaker(const tokenizer::Tokenizer& tokenizer);

  // Text whose encoding (with special tokens) is exactly `length` ids; the prompt's ids are
  // that encoding. When no exact text turns up (merges keep swallowing the last token), the
  // closest shorter one.
  absl::StatusOr<Prompt> Make(int64_t length, std::mt19937_64& rng) const;

 private:
  const tokenizer::Tokenizer& tokenizer_;
  std::vector<uint32_t> ordinary_;
};

// Reads a prompts file (see PromptSource::file). Text prompts get ids when `tokenizer` is set.
// Errors name the file and line.
absl::StatusOr<std::vector<Prompt>> ReadPromptsFile(const std::string& path,
                                                    const tokenizer::Tokenizer* tokenizer);

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_PROMPTS_H_
