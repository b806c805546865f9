#include "services/worker/loader/checkpoint.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/worker/loader/test_files.h"

namespace sllm::worker {
namespace {

using ::sllm::worker::testing::FloatBytes;
using ::sllm::worker::testing::SafetensorsBytes;
using ::sllm::worker::testing::ScratchDir;
using ::testing::ElementsAre;
using ::testing::AllOf;
using ::testing::HasSubstr;

std::string Shard(const std::string& a, const std::string& b) {
  return SafetensorsBytes(R"({")" + a + R"(":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},")" +
                              b + R"(":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                          FloatBytes(4));
}

TEST(CheckpointTest, OpensSingleFileFolder) {
  auto ckpt = Checkpoint::OpenDir(std::string(SLLM_MODELS_DIR) + "/stories260K");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ((*ckpt)->size(), 48u);
  EXPECT_EQ((*ckpt)->files().size(), 1u);
  ASSERT_NE((*ckpt)->Find("model.norm.weight"), nullptr);
  EXPECT_EQ((*ckpt)->Names().front(), "lm_head.weight");
}

TEST(CheckpointTest, OpensShardedIndex) {
  ScratchDir dir;
  dir.Write("model-00001-of-00002.safetensors", Shard("a", "b"));
  dir.Write("model-00002-of-00002.safetensors", Shard("c", "d"));
  dir.Write("model.safetensors.index.json", R"({"metadata": {"total_size": 32}, "weight_map": {
      "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
      "c": "model-00002-of-00002.safetensors", "d": "model-00002-of-00002.safetensors"}})");
  auto ckpt = Checkpoint::OpenDir(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ((*ckpt)->files().size(), 2u);
  EXPECT_THAT((*ckpt)->Names(), ElementsAre("a", "b", "c", "d"));
  const TensorView* d = (*ckpt)->Find("d");
  ASSERT_NE(d, nullptr);
  float v;
  std::memcpy(&v, d->data, 4);
  EXPECT_EQ(v, 2.0f);
}

TEST(CheckpointTest, ShardErrorsNameTheProblem) {
  ScratchDir dir;
  dir.Write("s1.safetensors", Shard("a", "b"));
  dir.Write("s2.safetensors", Shard("b", "c"));
  auto open = [&](const std::string& index) {
    return Checkpoint::OpenIndex(dir.Write("index.json", index));
  };
  auto missing_file = open(R"({"weight_map": {"a": "nope.safetensors"}})");
  EXPECT_EQ(missing_file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing_file.status().message(), HasSubstr("nope.safetensors"));

  auto wrong_shard = open(R"({"weight_map": {"a": "s1.safetensors", "z": "s1.safetensors"}})");
  EXPECT_THAT(wrong_shard.status().message(),
              AllOf(HasSubstr("tensor 'z'"), HasSubstr("s1.safetensors"),
                    HasSubstr("does not contain it")));

  auto twice = open(R"({"weight_map": {"a": "s1.safetensors", "c": "s2.safetensors"}})");
  EXPECT_THAT(twice.status().message(), HasSubstr("tensor 'b' is in both"));

  auto escape = open(R"({"weight_map": {"a": "../s1.safetensors"}})");
  EXPECT_EQ(escape.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(escape.status().message(), HasSubstr("not a relative file name"));

  auto absolute = open(R"({"weight_map": {"a": "/etc/passwd"}})");
  EXPECT_THAT(absolute.status().message(), HasSubstr("not a relative file name"));

  auto no_map = open(R"({"metadata": {}})");
  EXPECT_THAT(no_map.status().message(), HasSubstr("weight_map"));

  auto bad_json = open("{");
  EXPECT_THAT(bad_json.status().message(), HasSubstr("not a valid JSON object"));
}

TEST(CheckpointTest, EmptyFolderIsNotFound) {
  ScratchDir dir;
  auto ckpt = Checkpoint::OpenDir(dir.path());
  EXPECT_EQ(ckpt.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(ckpt.status().message(),
              AllOf(HasSubstr("model.safetensors"), HasSubstr("model.safetensors.index.json")));
}

}  // namespace
}  // namespace sllm::worker
