// Debian's Abseil (2022-06) has its own absl::string_view, not std::string_view: absl::StrCat,
// flat_hash_map heterogeneous lookup and friends need this conversion.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace sllm {

inline absl::string_view AbslView(std::string_view s) { return {s.data(), s.size()}; }

}  // namespace sllm
