#include "services/common/json_nesting.h"

#include "absl/strings/str_cat.h"
#include "services/common/absl_view.h"

namespace sllm {

absl::Status CheckJsonNesting(std::string_view json, std::string_view what, int max_depth) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) {
        return absl::InvalidArgumentError(
            absl::StrCat(AbslView(what), " nests arrays and objects more than ", max_depth,
                         " levels deep (level ", depth, " opens at byte offset ", i, ")"));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return absl::OkStatus();
}

}  // namespace sllm
