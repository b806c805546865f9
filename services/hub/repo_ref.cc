#include "services/hub/repo_ref.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/common/absl_view.h"

namespace sllm::hub {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsValidPart(std::string_view part) {
  if (part.empty() || part.size() > 96) return false;
  for (char c : part) {
    if (!IsNameChar(c)) return false;
  }
  const char first = part.front(), last = part.back();
  return first != '.' && first != '-' && last != '.' && last != '-' &&
         part.find("..") == std::string_view::npos;
}

bool IsValidRevision(std::string_view revision) {
  if (revision.empty() || revision.size() > 255 || revision.front() == '/' ||
      revision.back() == '/' || revision.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : revision) {
    if (!IsNameChar(c) && c != '/') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<RepoRef> ParseRepoRef(std::string_view ref) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("model id '", AbslView(ref),
                                                   "' is not a hub id org/name[@revision]: ",
                                                   AbslView(why)));
  };
  RepoRef out;
  std::string_view repo = ref;
  if (const size_t at = ref.find('@'); at != std::string_view::npos) {
    repo = ref.substr(0, at);
    const std::string_view revision = ref.substr(at + 1);
    if (!IsValidRevision(revision)) {
      return invalid("the revision must be 1-255 of [A-Za-z0-9._/-] without \"..\"");
    }
    out.revision = std::string(revision);
  }
  const size_t slash = repo.find('/');
  if (slash == std::string_view::npos || !IsValidPart(repo.substr(0, slash)) ||
      !IsValidPart(repo.substr(slash + 1))) {
    return invalid(
        "org and name must each be 1-96 of [A-Za-z0-9._-], not starting or ending with '.' or "
        "'-', without \"..\"");
  }
  out.repo_id = std::string(repo);
  return out;
}

bool IsCommitHash(std::string_view revision) {
  if (revision.size() != 40) return false;
  for (char c : revision) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RepoFolderName(std::string_view repo_id) {
  return absl::StrCat("models--", absl::StrReplaceAll(AbslView(repo_id), {{"/", "--"}}));
}

}  // namespace sllm::hub
