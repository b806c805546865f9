// SnapshotDownload and ResolveModelDir against FakeHub on loopback serving a copy of the
// bundled stories260K folder.
#include "services/hub/hub_download.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/hub/fake_hub.h"
#include "services/hub/model_dir.h"

namespace sllm::hub {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::string kModelDir = std::string(SLLM_MODELS_DIR) + "/stories260K";
const std::string kRepo = "sllm-test/tiny-model";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class HubDownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cache_ = fs::temp_directory_path() /
             ("sllm_hub_test_" + std::to_string(::getpid()) + "_" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(cache_);
  }
  void TearDown() override { fs::remove_all(cache_); }

  HubOptions Options(const FakeHub& hub) const {
    HubOptions o;
    o.endpoint = hub.endpoint();
    o.cache_dir = cache_.string();
    return o;
  }
  static FakeHubOptions Served() {
    FakeHubOptions o;
    o.repo_id = kRepo;
    o.model_dir = kModelDir;
    return o;
  }

  fs::path cache_;
};

TEST_F(HubDownloadTest, DownloadsTheServingFilesIntoTheStandardCacheLayout) {
  FakeHub hub(Served());
  std::ostringstream progress;
  HubOptions options = Options(hub);
  options.progress = &progress;
  options.progress_min_bytes = 1 << 20;  // model.safetensors (1.1 MB) reports progress.
  auto dir = SnapshotDownload({kRepo, "main"}, options);
  ASSERT_TRUE(dir.ok()) << dir.status();
  const FakeHubOptions served = Served();
  const fs::path repo = cache_ / "models--sllm-test--tiny-model";
  EXPECT_EQ(fs::path(*dir), repo / "snapshots" / served.commit);
  EXPECT_EQ(ReadFile(repo / "refs" / "main"), served.commit);
  for (const char* file : {"config.json", "generation_config.json", "model.safetensors",
                           "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    SCOPED_TRACE(file);
    const fs::path link = fs::path(*dir) / file;
    ASSERT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(fs::read_symlink(link).parent_path(), fs::path("../../blobs"));
    EXPECT_EQ(ReadFile(link), ReadFile(fs::path(kModelDir) / file));
  }
  // Blobs are named by etag: the LFS file by its sha256.
  EXPECT_EQ(fs::read_symlink(fs::path(*dir) / "model.safetensors").filename().string().size(), 64u);
  // Only what serving needs: not the README, the license or reference/.
  EXPECT_FALSE(fs::exists(fs::path(*dir) / "README.md"));
  EXPECT_FALSE(fs::exists(fs::path(*dir) / "reference"));
  EXPECT_THAT(progress.str(), HasSubstr("downloading sllm-test/tiny-model@main model.safetensors"));
  EXPECT_THAT(progress.str(), HasSubstr("100%"));
  // The LFS bytes came from the redirect target, without the token going anywhere.
  EXPECT_EQ(hub.Count("GET", "/lfs/"), 1);
}

TEST_F(HubDownloadTest, ACachedSnapshotIsReusedAndOfflineModeNeedsNoServer) {
  std::string first;
  {
    FakeHub hub(Served());
    auto dir = SnapshotDownload({kRepo, "main"}, Options(hub));
    ASSERT_TRUE(dir.ok()) << dir.status();
    first = *dir;
    const int file_requests = hub.Count("HEAD", "/" + kRepo) + hub.Count("GET", "/lfs/");
    auto again = SnapshotDownload({kRepo, "main"}, Options(hub));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, first);
    // Only the revision lookup again: no file was fetched twice.
    EXPECT_EQ(hub.Count("HEAD", "/" + kRepo) + hub.Count("GET", "/lfs/"), file_requests);
    EXPECT_EQ(hub.Count("GET", "/api/models/"), 2);
  }
  // The hub is gone: offline mode resolves main through refs/main.
  HubOptions offline;
  offline.endpoint = "http://127.0.0.1:1";
  offline.cache_dir = cache_.string();
  offline.offline = true;
  auto cached = SnapshotDownload({kRepo, "main"}, offline);
  ASSERT_TRUE(cached.ok()) << cached.status();
  EXPECT_EQ(*cached, first);
  // Online with no server: the cached snapshot is used (with a warning).
  offline.offline = false;
  auto unreachable = SnapshotDownload({kRepo, "main"}, offline);
  ASSERT_TRUE(unreachable.ok()) << unreachable.status();
  EXPECT_EQ(*unreachable, first);
  // Offline and not cached: a clear error, no network.
  offline.offline = true;
  auto missing = SnapshotDownload({"sllm-test/other", "main"}, offline);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.status().message(),
              HasSubstr("HF_HUB_OFFLINE is set and sllm-test/other@main is not in the hub cache"));
  // Online, not cached, no server: UNAVAILABLE naming the endpoint.
  offline.offline = false;
  auto down = SnapshotDownload({"sllm-test/other", "main"}, offline);
  EXPECT_EQ(down.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(down.status().message(), HasSubstr("HF_ENDPOINT=http://127.0.0.1:1"));
}

TEST_F(HubDownloadTest, ACutDownloadResumesWithARangeRequest) {
  FakeHubOptions served = Served();
  served.cut_first_lfs_download_after = 300000;
  FakeHub hub(served);
  auto dir = SnapshotDownload({kRepo, "main"}, Options(hub));
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(ReadFile(fs::path(*dir) / "model.safetensors"),
            ReadFile(fs::path(kModelDir) / "model.safetensors"));
  std::vector<std::string> ranges;
  for (const auto& r : hub.requests()) {
    if (r.target.rfind("/lfs/", 0) == 0) ranges.push_back(r.range);
  }
  EXPECT_EQ(ranges, (std::vector<std::string>{"", "bytes=300000-"}));
}

TEST_F(HubDownloadTest, AGatedRepoNeedsTheToken) {
  FakeHubOptions served = Served();
  served.token = "hf_secret";
  FakeHub hub(served);
  auto anonymous = SnapshotDownload({kRepo, "main"}, Options(hub));
  EXPECT_EQ(anonymous.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(anonymous.status().message(), HasSubstr("set HF_TOKEN"));
  HubOptions wrong = Options(hub);
  wrong.token = "hf_wrong";
  auto denied = SnapshotDownload({kRepo, "main"}, wrong);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(denied.status().message(), HasSubstr("is gated"));
  HubOptions right = Options(hub);
  right.token = "hf_secret";
  auto dir = SnapshotDownload({kRepo, "main"}, right);
  ASSERT_TRUE(dir.ok()) << dir.status();
  // The successful listing carried the token.
  const auto requests = hub.requests();
  int api = 0;
  for (const auto& r : requests) api += r.target.rfind("/api/", 0) == 0;
  EXPECT_EQ(api, 3);
  for (const auto& r : requests) {
    if (r.target.rfind("/" + kRepo + "/resolve/", 0) == 0) {
      EXPECT_EQ(r.authorization, "Bearer hf_secret");
    }
  }
}

TEST_F(HubDownloadTest, WrongRevisionRepoAndCorruptBytesAreNamedErrors) {
  FakeHubOptions served = Served();
  served.corrupt_lfs = true;
  FakeHub hub(served);
  auto revision = SnapshotDownload({kRepo, "no-such-branch"}, Options(hub));
  EXPECT_EQ(revision.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(revision.status().message(),
              HasSubstr("revision 'no-such-branch' of sllm-test/tiny-model not found (404)"));
  auto repo = SnapshotDownload({"sllm-test/missing", "main"}, Options(hub));
  EXPECT_EQ(repo.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(repo.status().message(), HasSubstr("sllm-test/missing@main: 401"));
  auto corrupt = SnapshotDownload({kRepo, "main"}, Options(hub));
  EXPECT_EQ(corrupt.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(corrupt.status().message(), HasSubstr("model.safetensors: sha256"));
  // Nothing corrupt stays in the cache.
  const fs::path blobs = cache_ / "models--sllm-test--tiny-model" / "blobs";
  for (const auto& entry : fs::directory_iterator(blobs)) {
    EXPECT_NE(entry.path().filename().string().size(), 64u) << entry.path();
  }
}

TEST_F(HubDownloadTest, ResolveModelDirTakesFoldersOrHubIds) {
  FakeHub hub(Served());
  auto local = ResolveModelDir(kModelDir, Options(hub));
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(*local, kModelDir);
  auto by_id = ResolveModelDir(kRepo + "@main", Options(hub));
  ASSERT_TRUE(by_id.ok()) << by_id.status();
  EXPECT_TRUE(fs::exists(fs::path(*by_id) / "config.json"));
  auto pinned = ResolveModelDir(kRepo + "@" + Served().commit, Options(hub));
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_EQ(*pinned, *by_id);
  auto neither = ResolveModelDir("./no/such/folder", Options(hub));
  EXPECT_EQ(neither.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(neither.status().message(), HasSubstr("neither a folder nor a hub id"));
  auto escape = ResolveModelDir("../../no-such-folder-here", Options(hub));
  EXPECT_EQ(escape.status().code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(DefaultModelName(kModelDir), "stories260K");
  EXPECT_EQ(DefaultModelName(kModelDir + "/"), "stories260K");
  EXPECT_EQ(DefaultModelName("LGAI-EXAONE/EXAONE-4.0-1.2B@main"), "LGAI-EXAONE/EXAONE-4.0-1.2B");
}

}  // namespace
}  // namespace sllm::hub
