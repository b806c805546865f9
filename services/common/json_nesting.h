// A bound on how deeply a JSON text nests arrays and objects, checked before parsing it.
// nlohmann/json parses any depth without recursion, but copying, printing and walking a value
// (a chat template iterating over `tools`) recurse: a few megabytes of `[` would overflow the
// stack. Requests nest a few levels.
#ifndef SLLM_SERVICES_COMMON_JSON_NESTING_H_
#define SLLM_SERVICES_COMMON_JSON_NESTING_H_

#include <string_view>

#include "absl/status/status.h"

namespace sllm {

inline constexpr int kMaxJsonNesting = 64;

// INVALID_ARGUMENT "<what> nests arrays and objects more than <max_depth> levels deep (level
// N opens at byte offset B)" when `json` does; OK otherwise, also for text that is not JSON
// (the parser reports that). Brackets inside strings do not count.
absl::Status CheckJsonNesting(std::string_view json, std::string_view what,
                              int max_depth = kMaxJsonNesting);

}  // namespace sllm

#endif  // SLLM_SERVICES_COMMON_JSON_NESTING_H_
