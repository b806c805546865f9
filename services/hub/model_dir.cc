#include "services/hub/model_dir.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/absl_view.h"
#include "services/hub/repo_ref.h"

namespace sllm::hub {

absl::StatusOr<std::string> ResolveModelDir(std::string_view spec, const HubOptions& options) {
  std::error_code ec;
  const std::string path(spec);
  if (std::filesystem::is_directory(path, ec)) return path;
  auto ref = ParseRepoRef(spec);
  const absl::string_view s = AbslView(spec);
  if (!ref.ok() || absl::StartsWith(s, ".") || absl::StartsWith(s, "~")) {
    return absl::NotFoundError(absl::StrCat("model '", s,
                                            "' is neither a folder nor a hub id "
                                            "org/name[@revision]"));
  }
  auto dir = SnapshotDownload(*ref, options);
  if (!dir.ok()) {
    return absl::Status(dir.status().code(),
                        absl::StrCat("model '", s, "' (no such folder; as a hub id) ",
                                     dir.status().message()));
  }
  return dir;
}

absl::StatusOr<std::string> ResolveModelDir(std::string_view spec) {
  return ResolveModelDir(spec, HubOptionsFromEnv());
}

std::string DefaultModelName(std::string_view spec) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::path(spec).lexically_normal();
  if (!std::filesystem::is_directory(path, ec)) {
    if (auto ref = ParseRepoRef(spec); ref.ok()) return ref->repo_id;
  }
  std::string name = path.filename().string();
  if (name.empty()) name = path.parent_path().filename().string();
  return name;
}

}  // namespace sllm::hub
