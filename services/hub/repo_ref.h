// A Hugging Face model reference "org/name[@revision]" as users write it for --model, checked
// so that it can never name a path outside the cache (no "..", no extra slashes).
#ifndef SLLM_SERVICES_HUB_REPO_REF_H_
#define SLLM_SERVICES_HUB_REPO_REF_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace sllm::hub {

struct RepoRef {
  std::string repo_id;            // "org/name".
  std::string revision = "main";  // Branch, tag or 40-hex commit.
};

// INVALID_ARGUMENT naming the value unless `ref` is "org/name" or "org/name@revision" where org
// and name are 1-96 of [A-Za-z0-9._-] not starting or ending with '.' or '-' and without "..",
// and the revision is 1-255 of [A-Za-z0-9._/-] without "..".
absl::StatusOr<RepoRef> ParseRepoRef(std::string_view ref);

// Whether `revision` is a full commit hash (40 lowercase hex digits).
bool IsCommitHash(std::string_view revision);

// The cache folder of a model repo: "models--org--name".
std::string RepoFolderName(std::string_view repo_id);

}  // namespace sllm::hub

#endif  // SLLM_SERVICES_HUB_REPO_REF_H_
