#include "services/worker/loader/safetensors.h"

#include <cstring>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/worker/loader/test_files.h"

namespace sllm::worker {
namespace {

using ::sllm::worker::testing::FloatBytes;
using ::sllm::worker::testing::SafetensorsBytes;
using ::sllm::worker::testing::ScratchDir;
using ::testing::AllOf;
using ::testing::HasSubstr;

const std::string kStories = std::string(SLLM_MODELS_DIR) + "/stories260K/model.safetensors";
const std::string kTinyLlama3 =
    std::string(SLLM_TESTDATA_DIR) + "/models/tiny-llama3/model.safetensors";

TEST(SafetensorsTest, OpensStories260K) {
  auto file = SafetensorsFile::Open(kStories);
  ASSERT_TRUE(file.ok()) << file.status();
  const SafetensorsFile& f = **file;
  // 5 layers x 9 tensors + embed_tokens + norm + lm_head.
  EXPECT_EQ(f.tensors().size(), 5u * 9 + 3);
  const TensorView* embed = f.Find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->dtype, DType::kF32);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{512, 64}));
  EXPECT_EQ(embed->nbytes, 512u * 64 * 4);
  const TensorView* lm_head = f.Find("lm_head.weight");
  ASSERT_NE(lm_head, nullptr);
  // The README says lm_head.weight is stored and equals embed_tokens.
  EXPECT_EQ(std::memcmp(embed->data, lm_head->data, embed->nbytes), 0);
  const TensorView* q = f.Find("model.layers.4.self_attn.q_proj.weight");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->shape, (std::vector<int64_t>{64, 64}));
  const TensorView* k = f.Find("model.layers.0.self_attn.k_proj.weight");
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->shape, (std::vector<int64_t>{32, 64}));  // 4 KV heads x head_dim 8.
  EXPECT_EQ(f.Find("model.layers.5.self_attn.q_proj.weight"), nullptr);
}

TEST(SafetensorsTest, OpensTinyLlama3InBfloat16) {
  auto file = SafetensorsFile::Open(kTinyLlama3);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->tensors().size(), 20u);
  for (const TensorView& t : (*file)->tensors()) EXPECT_EQ(t.dtype, DType::kBF16) << t.name;
  const TensorView* embed = (*file)->Find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{128256, 64}));
  EXPECT_EQ((*file)->Find("lm_head.weight"), nullptr);  // Tied embeddings.
}

TEST(SafetensorsTest, ParsesHandWrittenFile) {
  ScratchDir dir;
  const std::string header =
      R"({"__metadata__":{"format":"pt"},)"
      R"("b":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},)"
      R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("empty":{"dtype":"BF16","shape":[0,4],"data_offsets":[40,40]},)"
      R"("scalar":{"dtype":"U8","shape":[],"data_offsets":[40,41]}}   )";  // Trailing padding.
  std::string data = FloatBytes(6) + std::string("\x07\0\0\0\0\0\0\0\x09\0\0\0\0\0\0\0", 16) + "x";
  auto file = SafetensorsFile::Open(dir.Write("ok.safetensors", SafetensorsBytes(header, data)));
  ASSERT_TRUE(file.ok()) << file.status();
  const SafetensorsFile& f = **file;
  EXPECT_EQ(f.metadata().at("format"), "pt");
  ASSERT_EQ(f.tensors().size(), 4u);
  EXPECT_EQ(f.tensors()[0].name, "a");  // Sorted by name.
  const TensorView* a = f.Find("a");
  float a5;
  std::memcpy(&a5, a->data + 20, 4);
  EXPECT_EQ(a5, 5.0f);
  EXPECT_EQ(a->numel(), 6);
  const TensorView* b = f.Find("b");
  EXPECT_EQ(b->dtype, DType::kI64);
  EXPECT_EQ(b->data[8], 9);
  EXPECT_EQ(f.Find("empty")->numel(), 0);
  EXPECT_EQ(f.Find("scalar")->numel(), 1);
  EXPECT_EQ(f.Find("scalar")->data[0], 'x');
}

// Found by tests/fuzz/safetensors_fuzz (UBSan): numel() of an accepted empty tensor whose
// dimensions before the 0 multiply past int64 overflowed.
TEST(SafetensorsTest, EmptyTensorWithHugeDimensionsHasNoElements) {
  const std::string bytes = SafetensorsBytes(
      R"({"e":{"dtype":"F64","shape":[4611686018427387904,2,0],"data_offsets":[0,0]}})", "");
  auto file = SafetensorsFile::Open(MappedFile::Borrow(
      "memory", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ((*file)->Find("e")->numel(), 0);
  EXPECT_EQ((*file)->Find("e")->nbytes, 0u);
}

TEST(SafetensorsTest, OpensBytesHeldInMemoryAndNamesThemInErrors) {
  const std::string bytes = SafetensorsBytes(
      R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", FloatBytes(2, 1.0f));
  auto file = SafetensorsFile::Open(MappedFile::Borrow(
      "memory", reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_TRUE(file.ok()) << file.status();
  float a1;
  std::memcpy(&a1, (*file)->Find("a")->data + 4, 4);
  EXPECT_EQ(a1, 2.0f);
  auto bad = SafetensorsFile::Open(MappedFile::Borrow(
      "memory", reinterpret_cast<const uint8_t*>(bytes.data()), 7));
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("memory: file is 7 bytes"));
}

TEST(SafetensorsTest, MissingFileIsNotFound) {
  auto file = SafetensorsFile::Open("/nonexistent/model.safetensors");
  EXPECT_EQ(file.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(file.status().message(), HasSubstr("/nonexistent/model.safetensors"));
}

// Each corrupt file must give INVALID_ARGUMENT with a message containing every `parts`.
struct CorruptCase {
  std::string name;
  std::string bytes;
  std::vector<std::string> parts;
};

std::vector<CorruptCase> CorruptCases() {
  const std::string good_header =
      R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
  const std::string good_data = FloatBytes(4);
  auto one = [](const std::string& entry) { return std::string(R"({"w":)") + entry + "}"; };
  std::vector<CorruptCase> cases = {
      {"empty_file", "", {"0 bytes", "too short"}},
      {"short_length", std::string("\x10\0\0", 3), {"3 bytes", "too short"}},
      {"length_too_large", SafetensorsBytes(good_header, good_data, 1 << 20),
       {"header length 1048576", "exceeds"}},
      {"length_huge", SafetensorsBytes(good_header, good_data, int64_t{1} << 62),
       {"header length 4611686018427387904"}},
      {"truncated_header",
       SafetensorsBytes(good_header, "").substr(0, 8 + good_header.size() / 2),
       {"header length " + std::to_string(good_header.size()) + " exceeds"}},
      {"bad_json", SafetensorsBytes(R"({"w": {"dtype": "F32",)", ""), {"not valid JSON"}},
      {"not_object", SafetensorsBytes("[1, 2]", ""), {"not a JSON object", "[1,2]"}},
      {"offsets_past_end", SafetensorsBytes(good_header, good_data.substr(0, 12)),
       {"tensor 'w'", "[0,16]", "end past the data section of 12 bytes"}},
      {"shape_offset_mismatch",
       SafetensorsBytes(one(R"({"dtype":"F32","shape":[2,3],"data_offsets":[0,16]})"),
                        good_data),
       {"tensor 'w'", "span 16 bytes", "[2,3]", "needs 24"}},
      {"begin_after_end",
       SafetensorsBytes(one(R"({"dtype":"F32","shape":[2,2],"data_offsets":[16,0]})"),
                        good_data),
       {"tensor 'w'", "[16,0]", "begin after end"}},
      {"float_dim",
       SafetensorsBytes(one(R"({"dtype":"F32","shape":[2,2.5],"data_offsets":[0,16]})"),
                        good_data),
       {"tensor 'w'", "2.5", "not a non-negative integer"}},
      {"negative_dim",
       SafetensorsBytes(one(R"({"dtype":"F32","shape":[-4],"data_offsets":[0,16]})"),
                        good_data),
       {"tensor 'w'", "-4"}},
      {"string_dim",
       SafetensorsBytes(one(R"({"dtype":"F32","shape":["4"],"data_offsets":[0,16]})"),
                        good_data),
       {"tensor 'w'", "\"4\""}},
      {"overflowing_shape",
       SafetensorsBytes(
           one(R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]})"),
           good_data),
       {"tensor 'w'", "overflows"}},
      {"unknown_dtype",
       SafetensorsBytes(one(R"({"dtype":"F12","shape":[4],"data_offsets":[0,16]})"), good_data),
       {"tensor 'w'", "unsupported dtype 'F12'"}},
      {"missing_offsets", SafetensorsBytes(one(R"({"dtype":"F32","shape":[4]})"), good_data),
       {"tensor 'w'", "data_offsets must be two non-negative integers"}},
      {"three_offsets",
       SafetensorsBytes(one(R"({"dtype":"F32","shape":[4],"data_offsets":[0,8,16]})"), good_data),
       {"tensor 'w'", "[0,8,16]"}},
      {"overlap",
       SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                        good_data),
       {"tensor 'b'", "[8, 16]", "overlap tensor 'a'", "[0, 12]"}},
      {"duplicate_name",
       SafetensorsBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                        good_data),
       {"names 'a' twice"}},
      {"metadata_not_strings",
       SafetensorsBytes(R"({"__metadata__":{"format":1}})", ""),
       {"__metadata__", "'format'", "not a string"}},
      {"entry_not_object", SafetensorsBytes(R"({"w":[1]})", ""), {"tensor 'w'", "not an object"}},
  };
  return cases;
}

TEST(SafetensorsTest, CorruptFilesGiveClearErrors) {
  ScratchDir dir;
  for (const CorruptCase& c : CorruptCases()) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.Write(c.name + ".safetensors", c.bytes);
    auto file = SafetensorsFile::Open(path);
    ASSERT_FALSE(file.ok());
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument) << file.status();
    const std::string message(file.status().message());
    EXPECT_THAT(message, HasSubstr(path));
    for (const std::string& part : c.parts) EXPECT_THAT(message, HasSubstr(part));
  }
}

TEST(SafetensorsTest, DTypeNamesRoundTrip) {
  for (const char* name : {"BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
                           "F64", "I64", "U64"}) {
    auto dtype = ParseDType(name);
    ASSERT_TRUE(dtype.has_value()) << name;
    EXPECT_EQ(DTypeName(*dtype), name);
  }
  EXPECT_EQ(DTypeSize(DType::kBF16), 2u);
  EXPECT_EQ(DTypeSize(DType::kI64), 8u);
  EXPECT_TRUE(IsFloatingWeightDType(DType::kF16));
  EXPECT_FALSE(IsFloatingWeightDType(DType::kI32));
  EXPECT_FALSE(ParseDType("F8_E4M3").has_value());
}

}  // namespace
}  // namespace sllm::worker
