#include "bench/load/length_spec.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sllm::loadgen {

int64_t LengthSpec::Sample(std::mt19937_64& rng) const {
  if (fixed()) return min;
  return std::uniform_int_distribution<int64_t>(min, max)(rng);
}

std::string LengthSpec::ToString() const {
  return fixed() ? absl::StrCat(min) : absl::StrCat(min, ":", max);
}

absl::StatusOr<LengthSpec> ParseLengthSpec(absl::string_view flag, absl::string_view value,
                                           int64_t limit) {
  const std::vector<absl::string_view> parts = absl::StrSplit(value, ':');
  if (parts.size() > 2) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " must be a length N or a range MIN:MAX, got '", value, "'"));
  }
  int64_t n[2] = {0, 0};
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!absl::SimpleAtoi(parts[i], &n[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          flag, " must be a length N or a range MIN:MAX of whole numbers, got '", value, "'"));
    }
    if (n[i] < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " lengths must be at least 1, got ", n[i], " in '", value, "'"));
    }
    if (n[i] > limit) {
      return absl::InvalidArgumentError(absl::StrCat(flag, " lengths must be at most ", limit,
                                                     ", got ", n[i], " in '", value, "'"));
    }
  }
  LengthSpec spec{n[0], parts.size() == 2 ? n[1] : n[0]};
  if (spec.min > spec.max) {
    return absl::InvalidArgumentError(absl::StrCat(
        flag, " range MIN:MAX must have MIN <= MAX, got '", value, "'"));
  }
  return spec;
}

}  // namespace sllm::loadgen
