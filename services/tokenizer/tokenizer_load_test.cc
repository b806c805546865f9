// Issue 8: corrupt tokenizer.json / tokenizer_config.json at load. Each variant is written to a
// scratch folder and must fail with its code and a message naming the file and the problem —
// never a crash, a hang or an allocation sized by a corrupt id.
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/tokenizer/model_tokenizer.h"
#include "services/tokenizer/tokenizer.h"

namespace sllm::tokenizer {
namespace {

using ::testing::HasSubstr;

class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sllm-tok-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& text) const {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A minimal valid BPE tokenizer.json with `model` and `rest` (more top-level members) spliced in.
std::string TokenizerJson(const std::string& model, const std::string& rest = "") {
  return R"({"version": "1.0", )" + rest + R"("model": )" + model + "}";
}

const std::string kModel =
    R"({"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]})";

struct Case {
  std::string name;
  std::string json;
  absl::StatusCode code;
  std::vector<std::string> parts;
};

TEST(TokenizerLoadTest, CorruptTokenizerJsonFailsWithANamedError) {
  const auto kInvalid = absl::StatusCode::kInvalidArgument;
  const std::vector<Case> cases = {
      {"empty_file", "", kInvalid, {"not a valid JSON object"}},
      {"truncated",
       R"({"model": {"type": "BPE", "vocab": {"a": 0)",
       kInvalid,
       {"not a valid JSON object"}},
      {"not_an_object", "[1, 2]", kInvalid, {"not a valid JSON object"}},
      {"no_model", R"({"version": "1.0"})", kInvalid, {"tokenizer.json has no model"}},
      {"unknown_model_type",
       TokenizerJson(R"({"type": "WordPiece", "vocab": {}})"),
       absl::StatusCode::kUnimplemented,
       {"unsupported tokenizer model type 'WordPiece' (supported: BPE)"}},
      {"model_type_not_a_string",
       TokenizerJson(R"({"type": 5, "vocab": {}})"),
       kInvalid,
       {"wrong type", "string"}},
      {"missing_vocab",
       TokenizerJson(R"({"type": "BPE", "merges": []})"),
       kInvalid,
       {"BPE model has no vocab object"}},
      {"vocab_id_negative",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": -1}})"),
       kInvalid,
       {"vocab entry 'a' has no valid id"}},
      {"vocab_id_not_a_number",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": "0"}})"),
       kInvalid,
       {"vocab entry 'a' has no valid id"}},
      // Ids size the reverse table: 2^32-1 once wrapped it to 0 (out-of-bounds writes), 4e9
      // asked for 128 GB.
      {"vocab_id_largest_uint32",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": 4294967295}})"),
       kInvalid,
       {"vocab entry 'a' has id 4294967295, beyond the largest supported id 16777215"}},
      {"vocab_id_huge",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": 4000000000}})"),
       kInvalid,
       {"vocab entry 'a' has id 4000000000"}},
      {"merge_of_unknown_tokens",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a q"]})"),
       kInvalid,
       {"merge 0 uses a token outside the vocab: 'a' 'q'"}},
      {"merge_result_outside_the_vocab",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": ["a b"]})"),
       kInvalid,
       {"merge 0 yields 'ab', which is not in the vocab"}},
      {"merge_malformed",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": 0}, "merges": [5]})"),
       kInvalid,
       {"merge 0 is malformed: 5"}},
      {"merge_not_a_pair",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": 0}, "merges": ["a b c"]})"),
       kInvalid,
       {"merge 0 is not 'a b': a b c"}},
      {"unk_token_outside_the_vocab",
       TokenizerJson(R"({"type": "BPE", "vocab": {"a": 0}, "unk_token": "<unk>"})"),
       kInvalid,
       {"unk_token '<unk>' is not in the vocab"}},
      {"added_tokens_not_a_list",
       TokenizerJson(kModel, R"("added_tokens": {}, )"),
       kInvalid,
       {"added_tokens is not a list"}},
      {"added_token_without_id",
       TokenizerJson(kModel, R"("added_tokens": [{"content": "<s>"}], )"),
       kInvalid,
       {"added token without id/content", "<s>"}},
      {"added_token_id_huge",
       TokenizerJson(kModel, R"("added_tokens": [{"id": 4294967295, "content": "<s>"}], )"),
       kInvalid,
       {"added token '\"<s>\"' has id 4294967295, beyond the largest supported id"}},
      {"added_token_flag_not_a_bool",
       TokenizerJson(kModel,
                     R"("added_tokens": [{"id": 3, "content": "<s>", "special": "yes"}], )"),
       kInvalid,
       {"wrong type", "boolean"}},
      {"normalizer_without_a_type",
       TokenizerJson(kModel, R"("normalizer": {"x": 1}, )"),
       kInvalid,
       {"normalizer without a type"}},
      {"unknown_normalizer",
       TokenizerJson(kModel, R"("normalizer": {"type": "Magic"}, )"),
       absl::StatusCode::kUnimplemented,
       {"unsupported normalizer type 'Magic'"}},
      {"unknown_pre_tokenizer",
       TokenizerJson(kModel, R"("pre_tokenizer": {"type": "Magic"}, )"),
       absl::StatusCode::kUnimplemented,
       {"unsupported pre_tokenizer type 'Magic'"}},
      {"unknown_decoder",
       TokenizerJson(kModel, R"("decoder": {"type": "Magic"}, )"),
       absl::StatusCode::kUnimplemented,
       {"unsupported decoder type 'Magic'"}},
  };
  ScratchDir dir;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string path = dir.Write(c.name + ".json", c.json);
    auto t = Tokenizer::FromFile(path);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.status().code(), c.code) << t.status();
    const std::string message(t.status().message());
    EXPECT_THAT(message, HasSubstr(path));
    for (const std::string& part : c.parts) EXPECT_THAT(message, HasSubstr(part));
  }
  // The minimal tokenizer itself loads: the rows fail for their own reason.
  auto good = Tokenizer::FromFile(dir.Write("good.json", TokenizerJson(kModel)));
  ASSERT_TRUE(good.ok()) << good.status();
}

TEST(TokenizerLoadTest, CorruptTokenizerConfigFailsWithANamedError) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {R"({"add_bos_token": "yes"})", {"tokenizer_config.json", "wrong type", "boolean"}},
      {R"({"chat_template": [5]})", {"tokenizer_config.json", "wrong type"}},
      {R"({"chat_template": [{"name": "default", "template": 5}]})",
       {"tokenizer_config.json", "wrong type", "string"}},
      {R"({"bos_token": )", {"tokenizer_config.json", "is not valid JSON"}},
  };
  for (const auto& [config, parts] : cases) {
    SCOPED_TRACE(config);
    ScratchDir dir;
    dir.Write("tokenizer.json", TokenizerJson(kModel));
    dir.Write("tokenizer_config.json", config);
    auto m = ModelTokenizer::Load("m", dir.path());
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().code(), absl::StatusCode::kInvalidArgument) << m.status();
    for (const std::string& part : parts) EXPECT_THAT(m.status().message(), HasSubstr(part));
  }
}

}  // namespace
}  // namespace sllm::tokenizer
