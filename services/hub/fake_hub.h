// A loopback imitation of the Hugging Face hub's endpoints for tests, serving one model folder
// as one repo at one commit:
//   GET  /api/models/{repo}/revision/{rev}  -> {"id", "sha", "siblings": [{"rfilename"}]}
//   HEAD|GET /{repo}/resolve/{rev}/{file}   -> regular files: 200 with ETag (git blob sha1);
//        *.safetensors (LFS): 302 to /lfs/{sha256} with X-Linked-Etag, X-Linked-Size,
//        X-Repo-Commit, as the hub redirects to its LFS storage
//   GET  /lfs/{sha256}                      -> the bytes, honouring "Range: bytes=N-" (206)
// Unknown repos answer 401 (X-Error-Code: RepoNotFound) as the hub does for anonymous
// callers; unknown revisions 404 RevisionNotFound. Faults on demand: a gated repo (401 without
// a token, 403 with a wrong one), a connection cut in the middle of the first LFS download,
// corrupted LFS bytes.
#ifndef SLLM_SERVICES_HUB_FAKE_HUB_H_
#define SLLM_SERVICES_HUB_FAKE_HUB_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sllm::hub {

struct FakeHubOptions {
  std::string repo_id = "sllm-test/tiny-model";
  std::string commit = "0123456789abcdef0123456789abcdef01234567";
  std::vector<std::string> branches = {"main"};
  std::string model_dir;  // Its top-level files and reference/ subfolder are the repo.
  std::string token;      // Gated: requests must carry "Authorization: Bearer <token>".
  int64_t cut_first_lfs_download_after = -1;  // Bytes sent before cutting (-1: never).
  bool corrupt_lfs = false;                   // Flip a byte of every LFS body.
};

class FakeHub {
 public:
  explicit FakeHub(FakeHubOptions options);
  ~FakeHub();
  FakeHub(const FakeHub&) = delete;
  FakeHub& operator=(const FakeHub&) = delete;

  std::string endpoint() const;  // "http://127.0.0.1:PORT".

  struct Request {
    std::string method, target, range, authorization;
  };
  std::vector<Request> requests() const;
  // Requests whose target starts with `prefix`.
  int Count(const std::string& method, const std::string& prefix) const;

 private:
  struct File {
    std::string bytes;
    std::string etag;  // sha256 for LFS files, git blob sha1 otherwise.
    bool lfs = false;
  };
  struct Impl;

  FakeHubOptions options_;
  std::map<std::string, File> files_;  // Repo path -> file.
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<Request> requests_;
  bool cut_done_ = false;
};

}  // namespace sllm::hub

#endif  // SLLM_SERVICES_HUB_FAKE_HUB_H_
