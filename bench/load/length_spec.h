// Token lengths of prompts and outputs: a fixed length ("64") or a uniform range ("32:128",
// both ends included), drawn with a seeded generator.
#ifndef SLLM_BENCH_LOAD_LENGTH_SPEC_H_
#define SLLM_BENCH_LOAD_LENGTH_SPEC_H_

#include <cstdint>
#include <random>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace sllm::loadgen {

struct LengthSpec {
  int64_t min = 1;
  int64_t max = 1;  // == min for a fixed length.

  bool fixed() const { return min == max; }
  // A length in [min, max], uniform.
  int64_t Sample(std::mt19937_64& rng) const;
  // "64" or "32:128", as parsed.
  std::string ToString() const;
};

// Parses `value` of the flag `flag` (for messages, e.g. "--prompt-len"). Each length must lie in
// [1, limit]. Errors are INVALID_ARGUMENT naming the flag, the bound and the value.
absl::StatusOr<LengthSpec> ParseLengthSpec(absl::string_view flag, absl::string_view value,
                                           int64_t limit);

}  // namespace sllm::loadgen

#endif  // SLLM_BENCH_LOAD_LENGTH_SPEC_H_
