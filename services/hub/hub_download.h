// Fetching a model repo from the Hugging Face hub the way huggingface_hub's snapshot_download
// does: into the standard cache ($HF_HOME/hub/models--org--name/{blobs,refs,snapshots}),
// reusing what is there, only the files serving needs.
//
// Protocol: GET {endpoint}/api/models/{repo}/revision/{rev} lists the files and the commit;
// HEAD {endpoint}/{repo}/resolve/{commit}/{file} gives the file's etag (X-Linked-Etag: the
// sha256 of an LFS file; ETag otherwise), size (X-Linked-Size / Content-Length) and, for LFS
// files, a redirect to where the bytes are. Blobs are named by etag; snapshots/<commit>/<file>
// are relative symlinks to them; refs/<rev> holds the commit a branch or tag resolved to.
#ifndef SLLM_SERVICES_HUB_HUB_DOWNLOAD_H_
#define SLLM_SERVICES_HUB_HUB_DOWNLOAD_H_

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/hub/repo_ref.h"

namespace sllm::hub {

struct HubOptions {
  std::string endpoint = "https://huggingface.co";
  std::string token;      // Sent as "Authorization: Bearer" to the endpoint when set.
  std::string cache_dir;  // The hub cache (…/huggingface/hub).
  bool offline = false;   // Use the cache only.
  // Where progress lines go (nullptr: nowhere), for files of at least progress_min_bytes.
  std::ostream* progress = nullptr;
  int64_t progress_min_bytes = int64_t{32} << 20;
  // Tries per file; a cut download resumes where it stopped (HTTP Range).
  int max_attempts = 5;
};

// From the environment, as huggingface_hub reads it: HF_ENDPOINT, HF_TOKEN, HF_HUB_CACHE or
// HF_HOME/hub or $XDG_CACHE_HOME/huggingface/hub or ~/.cache/huggingface/hub, HF_HUB_OFFLINE
// (1/true/yes/on); progress to stderr.
HubOptions HubOptionsFromEnv();

// Whether a repo file is one serving needs: config.json, generation_config.json, the tokenizer
// and chat-template files, *.safetensors and model.safetensors.index.json (top level only).
bool IsServingFile(std::string_view path);

// The local snapshot folder of `ref` with the serving files, downloading what the cache lacks.
// Errors name the repo, revision or file: UNAUTHENTICATED (401: missing, private or gated: set
// HF_TOKEN), PERMISSION_DENIED (403: gated, token without access), NOT_FOUND (404: repo or
// revision), DATA_LOSS (size or sha256 mismatch), UNAVAILABLE (network; a cached snapshot of
// the revision is used instead when there is one), FAILED_PRECONDITION (offline and not
// cached; a repo without config.json).
absl::StatusOr<std::string> SnapshotDownload(const RepoRef& ref, const HubOptions& options);

}  // namespace sllm::hub

#endif  // SLLM_SERVICES_HUB_HUB_DOWNLOAD_H_
