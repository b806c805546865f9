#include "services/hub/repo_ref.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sllm::hub {
namespace {

using ::testing::HasSubstr;

TEST(RepoRefTest, ParsesIdsAndRevisions) {
  auto plain = ParseRepoRef("meta-llama/Llama-3.2-3B-Instruct");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->repo_id, "meta-llama/Llama-3.2-3B-Instruct");
  EXPECT_EQ(plain->revision, "main");
  auto pinned = ParseRepoRef("LGAI-EXAONE/EXAONE-4.0-1.2B@0123456789abcdef0123456789abcdef01234567");
  ASSERT_TRUE(pinned.ok()) << pinned.status();
  EXPECT_TRUE(IsCommitHash(pinned->revision));
  auto pr = ParseRepoRef("microsoft/phi-2@refs/pr/7");
  ASSERT_TRUE(pr.ok()) << pr.status();
  EXPECT_EQ(pr->revision, "refs/pr/7");
  EXPECT_EQ(RepoFolderName("microsoft/phi-2"), "models--microsoft--phi-2");
  EXPECT_FALSE(IsCommitHash("main"));
  EXPECT_FALSE(IsCommitHash("0123456789ABCDEF0123456789abcdef01234567"));
}

// Ids can never name a path outside the cache.
TEST(RepoRefTest, RejectsWhatCouldEscapeTheCache) {
  for (const char* bad : {"../etc/passwd", "org/..", "org/../x", "a/b/c", "/abs/path", "org/",
                          "org/name@", "org/name@../../x", "org/na me", "org/.hidden",
                          "org/name@/main", "justaname", "org/name-"}) {
    SCOPED_TRACE(bad);
    auto ref = ParseRepoRef(bad);
    ASSERT_FALSE(ref.ok());
    EXPECT_EQ(ref.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(ref.status().message(), HasSubstr(bad));
  }
}

}  // namespace
}  // namespace sllm::hub
