// sllm-generate serves the seed architectures: the reference prompts as text (tokenized by the
// model folder's tokenizer), all lines batched through the real engine, greedy ids equal to
// each model's reference/greedy.json.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace {

using Json = nlohmann::json;

Json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return Json::parse(in);
}

class GenerateCliTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GenerateCliTest, TextPromptsBatchedGiveTheReferenceIds) {
  const std::string dir = std::string(SLLM_TESTDATA_DIR) + "/models/" + GetParam();
  const Json ref = ReadJson(dir + "/reference/greedy.json");
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() /
      ("sllm_generate_cli_test_" + GetParam() + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  {
    std::ofstream in(tmp / "in.jsonl");
    for (const Json& c : ref["cases"]) {
      in << Json{{"prompt", c["prompt"]},
                 {"max_new_tokens", c["expected"].size()},
                 {"ignore_eos", true}}
                .dump()
         << "\n";
    }
  }
  const std::string command = std::string(SLLM_BIN_DIR) + "/sllm-generate --threads 1 --model " +
                              dir + " < " + (tmp / "in.jsonl").string() + " > " +
                              (tmp / "out.jsonl").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream out(tmp / "out.jsonl");
  std::string line;
  size_t i = 0;
  while (std::getline(out, line)) {
    ASSERT_LT(i, ref["cases"].size());
    const Json& c = ref["cases"][i++];
    SCOPED_TRACE(c["tag"].get<std::string>());
    const Json got = Json::parse(line);
    EXPECT_EQ(got["finish_reason"], "length") << line;
    EXPECT_EQ(got["ids"], c["expected"]);
  }
  EXPECT_EQ(i, ref["cases"].size());
  std::filesystem::remove_all(tmp);
}

INSTANTIATE_TEST_SUITE_P(SeedModels, GenerateCliTest,
                         ::testing::Values("tiny-exaone4", "tiny-phi2", "tiny-mistral"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (ch == '-') ch = '_';
                           }
                           return name;
                         });

}  // namespace
