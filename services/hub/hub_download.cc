#include "services/hub/hub_download.h"

#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <vector>

#include <openssl/evp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "glog/logging.h"
#include "nlohmann/json.hpp"
#include "services/common/absl_view.h"
#include "services/common/status_macros.h"
#include "services/hub/http_fetch.h"

namespace sllm::hub {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

bool EnvTrue(const char* name) {
  const std::string v = absl::AsciiStrToLower(Env(name));
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

// Percent-encodes everything but RFC 3986 unreserved characters (a revision "refs/pr/1" becomes
// "refs%2Fpr%2F1", as huggingface_hub quotes it).
std::string UrlEncode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

std::string Origin(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  const size_t slash = url.find('/', scheme + 3);
  return std::string(url.substr(0, slash));
}

// "W/\"abc\"" -> "abc".
std::string NormalizeEtag(std::string etag) {
  absl::string_view v = etag;
  absl::ConsumePrefix(&v, "W/");
  v = absl::StripPrefix(absl::StripSuffix(v, "\""), "\"");
  return std::string(v);
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

absl::StatusOr<std::string> Sha256OfFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path.string()));
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &len);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += absl::StrFormat("%02x", digest[i]);
  return hex;
}

// An exclusive flock held for the object's lifetime (two processes fetching the same blob).
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    fd_ = ::open(path.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

class Downloader {
 public:
  Downloader(const RepoRef& ref, const HubOptions& options)
      : ref_(ref),
        options_(options),
        repo_dir_(fs::path(options.cache_dir) / RepoFolderName(ref.repo_id)) {}

  absl::StatusOr<std::string> Run() {
    if (options_.offline) {
      auto cached = CachedSnapshot();
      if (cached.ok()) return cached;
      return absl::FailedPreconditionError(absl::StrCat(
          "HF_HUB_OFFLINE is set and ", Name(), " is not in the hub cache at ",
          repo_dir_.string(), " (", cached.status().message(), ")"));
    }
    const absl::Status info = FetchInfo();
    if (!info.ok()) {
      if (info.code() != absl::StatusCode::kUnavailable) return info;
      auto cached = CachedSnapshot();
      if (!cached.ok()) return info;
      LOG(WARNING) << info.message() << "; using the cached snapshot " << *cached;
      return cached;
    }
    const fs::path snapshot = repo_dir_ / "snapshots" / commit_;
    for (const std::string& file : files_) {
      std::error_code ec;
      if (fs::exists(snapshot / file, ec)) continue;  // Cache hit (follows the symlink).
      RETURN_IF_ERROR(FetchFile(file, snapshot));
    }
    if (ref_.revision != commit_) {
      RETURN_IF_ERROR(WriteAtomically(repo_dir_ / "refs" / ref_.revision, commit_));
    }
    return snapshot.string();
  }

 private:
  std::string Name() const { return absl::StrCat(ref_.repo_id, "@", ref_.revision); }

  std::vector<std::pair<std::string, std::string>> AuthHeaders(std::string_view url) const {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!options_.token.empty() && Origin(url) == Origin(options_.endpoint)) {
      headers.emplace_back("Authorization", absl::StrCat("Bearer ", options_.token));
    }
    return headers;
  }

  // The error for a non-success hub status, naming what was asked for.
  absl::Status HubError(const HttpResponse& r, std::string_view what_view) const {
    const absl::string_view what = AbslView(what_view);
    const std::string code = r.Header("x-error-code");
    const std::string server_message = r.Header("x-error-message");
    const std::string detail = server_message.empty() ? "" : absl::StrCat(": ", server_message);
    switch (r.status) {
      case 401:
        return absl::UnauthenticatedError(absl::StrCat(
            what, ": 401 Unauthorized", detail, ". The repository does not exist, or it is "
            "private or gated: ",
            options_.token.empty() ? "set HF_TOKEN to a token with access to it"
                                   : "HF_TOKEN was rejected or has no access to it"));
      case 403:
        return absl::PermissionDeniedError(absl::StrCat(
            what, ": 403 Forbidden", detail, ". ", ref_.repo_id,
            " is gated: accept its conditions on the hub with your account and set HF_TOKEN "
            "to a token of that account"));
      case 404:
        if (code == "RevisionNotFound") {
          return absl::NotFoundError(absl::StrCat(what, ": revision '", ref_.revision,
                                                  "' of ", ref_.repo_id, " not found (404)"));
        }
        if (code == "EntryNotFound") {
          return absl::NotFoundError(absl::StrCat(what, ": file not found in ", Name(), " (404)"));
        }
        return absl::NotFoundError(
            absl::StrCat(what, ": repository ", ref_.repo_id, " not found (404)", detail));
      default:
        return absl::UnavailableError(
            absl::StrCat(what, ": unexpected HTTP status ", r.status, detail));
    }
  }

  absl::Status FetchInfo() {
    const std::string url = absl::StrCat(options_.endpoint, "/api/models/", ref_.repo_id,
                                         "/revision/", UrlEncode(ref_.revision));
    HttpRequest request;
    request.url = url;
    request.headers = AuthHeaders(url);
    auto response = HttpFetch(request);
    if (!response.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot reach the hub (HF_ENDPOINT=", options_.endpoint, ") for ", Name(), ": ",
          response.status().message(), " (HF_HUB_OFFLINE=1 uses the cache only)"));
    }
    if (response->status != 200) return HubError(*response, Name());
    Json info = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (!info.is_object() || !info.contains("sha") || !info["sha"].is_string() ||
        !IsCommitHash(info["sha"].get<std::string>()) || !info.contains("siblings") ||
        !info["siblings"].is_array()) {
      return absl::UnavailableError(
          absl::StrCat(url, ": the hub's answer has no commit sha and file list"));
    }
    commit_ = info["sha"].get<std::string>();
    bool has_config = false;
    for (const Json& sibling : info["siblings"]) {
      if (!sibling.is_object() || !sibling.contains("rfilename") ||
          !sibling["rfilename"].is_string()) {
        continue;
      }
      const std::string name = sibling["rfilename"].get<std::string>();
      if (!IsServingFile(name)) continue;
      files_.push_back(name);
      has_config |= name == "config.json";
    }
    if (!has_config) {
      return absl::FailedPreconditionError(
          absl::StrCat(Name(), " has no config.json: not a transformers model repository"));
    }
    return absl::OkStatus();
  }

  struct FileMeta {
    std::string etag;
    int64_t size = -1;
    std::string download_url;
  };

  // HEAD on the resolve URL, following relative redirects (renamed repos); an absolute redirect
  // is where the bytes are (LFS storage).
  absl::StatusOr<FileMeta> FetchMeta(const std::string& file) {
    std::string url =
        absl::StrCat(options_.endpoint, "/", ref_.repo_id, "/resolve/", commit_, "/", file);
    const std::string what = absl::StrCat(Name(), " ", file);
    for (int hops = 0; hops < 5; ++hops) {
      HttpRequest request;
      request.head = true;
      request.url = url;
      request.headers = AuthHeaders(url);
      request.headers.emplace_back("Accept-Encoding", "identity");
      ASSIGN_OR_RETURN(HttpResponse r, HttpFetch(request));
      const std::string location = r.Header("location");
      if (r.status >= 300 && r.status < 400 && absl::StartsWith(location, "/")) {
        url = absl::StrCat(Origin(url), location);
        continue;
      }
      if (r.status != 200 && !(r.status >= 300 && r.status < 400 && !location.empty())) {
        return HubError(r, what);
      }
      FileMeta meta;
      meta.etag = NormalizeEtag(r.Header("x-linked-etag"));
      if (meta.etag.empty()) meta.etag = NormalizeEtag(r.Header("etag"));
      std::string size = r.Header("x-linked-size");
      if (size.empty()) size = r.Header("content-length");
      int64_t parsed = -1;
      if (!absl::SimpleAtoi(size, &parsed) || parsed < 0 || meta.etag.empty() ||
          meta.etag.find('/') != std::string::npos || meta.etag.find("..") != std::string::npos) {
        return absl::UnavailableError(absl::StrCat(
            what, ": the hub gave no usable ETag and size (etag '", meta.etag, "', size '", size,
            "')"));
      }
      meta.size = parsed;
      meta.download_url = r.status == 200 ? url : location;
      return meta;
    }
    return absl::UnavailableError(absl::StrCat(what, ": too many redirects"));
  }

  absl::Status FetchFile(const std::string& file, const fs::path& snapshot) {
    ASSIGN_OR_RETURN(FileMeta meta, FetchMeta(file));
    const fs::path blob = repo_dir_ / "blobs" / meta.etag;
    {
      FileLock lock(fs::path(options_.cache_dir) / ".locks" / RepoFolderName(ref_.repo_id) /
                    absl::StrCat(meta.etag, ".lock"));
      std::error_code ec;
      if (!fs::exists(blob, ec)) RETURN_IF_ERROR(FetchBlob(file, meta, blob));
    }
    // snapshots/<commit>/<file> -> ../../blobs/<etag> (one more ../ per subfolder of file).
    const fs::path link = snapshot / file;
    std::error_code ec;
    fs::create_directories(link.parent_path(), ec);
    fs::create_symlink(fs::relative(blob, link.parent_path()), link, ec);
    if (ec && !fs::exists(link)) {
      return absl::InternalError(
          absl::StrCat("cannot create ", link.string(), ": ", ec.message()));
    }
    return absl::OkStatus();
  }

  absl::Status FetchBlob(const std::string& file, const FileMeta& meta, const fs::path& blob) {
    std::error_code ec;
    fs::create_directories(blob.parent_path(), ec);
    const fs::path partial = blob.string() + ".incomplete";
    // Bytes downloaded so far, -1 when there is no partial file.
    auto PartialSize = [&] {
      std::error_code size_ec;
      return fs::exists(partial, size_ec)
                 ? static_cast<int64_t>(fs::file_size(partial, size_ec))
                 : int64_t{-1};
    };
    const std::string what = absl::StrCat(Name(), " ", file);
    const bool show = options_.progress != nullptr && meta.size >= options_.progress_min_bytes;
    int last_percent = -1;
    absl::Status last_error;
    for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
      int64_t have = std::max<int64_t>(PartialSize(), 0);
      if (have > meta.size) {
        fs::remove(partial, ec);
        have = 0;
      }
      HttpRequest request;
      request.url = meta.download_url;
      request.headers = AuthHeaders(request.url);
      if (have > 0) request.headers.emplace_back("Range", absl::StrCat("bytes=", have, "-"));
      request.output_path = partial.string();
      if (show) {
        request.progress = [&, have](int64_t now, int64_t) {
          const int64_t done = have + now;
          const int percent = static_cast<int>(100 * done / std::max<int64_t>(meta.size, 1));
          if (percent == last_percent) return;
          last_percent = percent;
          *options_.progress << absl::StrFormat("\rsllm: downloading %s: %3d%% (%.1f / %.1f MB)",
                                                what, percent, done / 1e6, meta.size / 1e6)
                             << std::flush;
        };
      }
      auto response = HttpFetch(request);
      if (!response.ok()) {
        last_error = response.status();
        LOG(WARNING) << what << ": download interrupted (" << response.status().message()
                     << "), resuming";
        continue;
      }
      if (response->status == 416) {  // The partial file is not a prefix the server knows.
        fs::remove(partial, ec);
        last_error = absl::UnavailableError(absl::StrCat(what, ": range not satisfiable"));
        continue;
      }
      if (response->status != 200 && response->status != 206) return HubError(*response, what);
      if (response->status == 200 && response->body_bytes == 0) {
        std::ofstream touch(partial, std::ios::trunc);  // An empty file has no body to write.
      }
      if (PartialSize() >= meta.size) {
        break;
      }
      last_error = absl::UnavailableError(absl::StrCat(what, ": the body ended early"));
    }
    if (show) *options_.progress << "\n";
    const int64_t got = PartialSize();
    if (got != meta.size) {
      if (got < meta.size && !last_error.ok()) {
        return absl::UnavailableError(absl::StrCat(
            what, ": download failed after ", options_.max_attempts, " tries (", got < 0 ? 0 : got,
            " of ", meta.size, " bytes kept in ", partial.string(),
            "; running again resumes): ", last_error.message()));
      }
      fs::remove(partial, ec);
      return absl::DataLossError(absl::StrCat(what, ": got ", got, " bytes, the hub announced ",
                                              meta.size));
    }
    if (IsSha256Hex(meta.etag)) {
      ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(partial));
      if (sha != absl::AsciiStrToLower(meta.etag)) {
        fs::remove(partial, ec);
        return absl::DataLossError(absl::StrCat(what, ": sha256 ", sha,
                                                " does not match the hub's ", meta.etag));
      }
    }
    fs::rename(partial, blob, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot rename to ", blob.string(), ": ", ec.message()));
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> CachedSnapshot() const {
    std::string commit = ref_.revision;
    if (!IsCommitHash(commit)) {
      std::ifstream in(repo_dir_ / "refs" / ref_.revision);
      if (!(in >> commit)) {
        return absl::NotFoundError(absl::StrCat("no refs/", ref_.revision));
      }
    }
    const fs::path snapshot = repo_dir_ / "snapshots" / commit;
    std::error_code ec;
    if (!fs::exists(snapshot / "config.json", ec)) {
      return absl::NotFoundError(absl::StrCat("no snapshot ", commit, " with a config.json"));
    }
    return snapshot.string();
  }

  static absl::Status WriteAtomically(const fs::path& path, const std::string& content) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    const fs::path tmp = absl::StrCat(path.string(), ".tmp", ::getpid());
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << content;
      if (!out) return absl::InternalError(absl::StrCat("cannot write ", tmp.string()));
    }
    fs::rename(tmp, path, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot write ", path.string()));
    return absl::OkStatus();
  }

  const RepoRef ref_;
  const HubOptions& options_;
  const fs::path repo_dir_;
  std::string commit_;
  std::vector<std::string> files_;
};

}  // namespace

HubOptions HubOptionsFromEnv() {
  HubOptions o;
  if (std::string e = Env("HF_ENDPOINT"); !e.empty()) {
    o.endpoint = std::string(absl::StripSuffix(e, "/"));
  }
  o.token = Env("HF_TOKEN");
  if (std::string c = Env("HF_HUB_CACHE"); !c.empty()) {
    o.cache_dir = c;
  } else if (std::string h = Env("HF_HOME"); !h.empty()) {
    o.cache_dir = h + "/hub";
  } else if (std::string x = Env("XDG_CACHE_HOME"); !x.empty()) {
    o.cache_dir = x + "/huggingface/hub";
  } else {
    o.cache_dir = Env("HOME") + "/.cache/huggingface/hub";
  }
  o.offline = EnvTrue("HF_HUB_OFFLINE");
  o.progress = &std::cerr;
  return o;
}

bool IsServingFile(std::string_view path) {
  if (path.find('/') != std::string_view::npos) return false;
  static constexpr std::string_view kFiles[] = {
      "config.json",          "generation_config.json", "tokenizer.json",
      "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja",
      "chat_template.json",   "model.safetensors.index.json"};
  for (std::string_view f : kFiles) {
    if (path == f) return true;
  }
  return absl::EndsWith(AbslView(path), ".safetensors");
}

absl::StatusOr<std::string> SnapshotDownload(const RepoRef& ref, const HubOptions& options) {
  if (options.cache_dir.empty()) return absl::InvalidArgumentError("no hub cache folder");
  return Downloader(ref, options).Run();
}

}  // namespace sllm::hub
