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

// Issue 8: a model folder whose weights are corrupt fails at load with INVALID_ARGUMENT naming
// the file and the problem (every corruption of the format itself is in safetensors_test.cc;
// this is the path a worker takes, single file and sharded).
TEST(CheckpointTest, CorruptWeightsFailAtLoadNamingTheFile) {
  const std::string header = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  const std::string data = FloatBytes(4);
  struct Case {
    std::string name;
    std::string bytes;
    std::string part;
  };
  const std::vector<Case> cases = {
      {"truncated_length", std::string("\x10\0", 2), "too short"},
      {"header_beyond_the_file", SafetensorsBytes(header, data, 1 << 20),
       "header length 1048576"},
      {"header_not_json", SafetensorsBytes("{\"w\": [", data), "not valid JSON"},
      {"unknown_dtype",
       SafetensorsBytes(R"({"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,16]}})", data),
       "unsupported dtype 'Q4'"},
      {"offsets_past_the_data", SafetensorsBytes(header, data.substr(0, 8)),
       "end past the data section of 8 bytes"},
      {"overlapping_tensors",
       SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                        data),
       "overlap tensor 'a'"},
      {"shape_times_dtype_is_not_the_span",
       SafetensorsBytes(R"({"w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,16]}})", data),
       "needs 8"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ScratchDir single;
    const std::string file = single.Write("model.safetensors", c.bytes);
    auto ckpt = Checkpoint::OpenDir(single.path());
    ASSERT_FALSE(ckpt.ok());
    EXPECT_EQ(ckpt.status().code(), absl::StatusCode::kInvalidArgument) << ckpt.status();
    EXPECT_THAT(ckpt.status().message(), AllOf(HasSubstr(file), HasSubstr(c.part)));

    ScratchDir sharded;
    sharded.Write("model-00001-of-00002.safetensors", Shard("a", "b"));
    const std::string bad = sharded.Write("model-00002-of-00002.safetensors", c.bytes);
    sharded.Write("model.safetensors.index.json", R"({"weight_map": {
        "a": "model-00001-of-00002.safetensors", "b": "model-00001-of-00002.safetensors",
        "w": "model-00002-of-00002.safetensors"}})");
    ckpt = Checkpoint::OpenDir(sharded.path());
    ASSERT_FALSE(ckpt.ok());
    EXPECT_EQ(ckpt.status().code(), absl::StatusCode::kInvalidArgument) << ckpt.status();
    EXPECT_THAT(ckpt.status().message(), AllOf(HasSubstr(bad), HasSubstr(c.part)));
  }
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
