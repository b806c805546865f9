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
#include "services/hub/fake_hub.h"

namespace {

using Json = nlohmann::json;

Json ReadJson(const std::string& path) {
  std::ifstream in(path);
  return Json::parse(in);
}

// Runs sllm-generate on `model` (a folder or hub id, with `env` assignments before the
// command) over the reference prompts of `dir` and checks the ids.
void ExpectReferenceIds(const std::string& dir, const std::string& model, const std::string& env,
                        const std::string& tag) {
  const Json ref = ReadJson(dir + "/reference/greedy.json");
  const std::filesystem::path tmp =
      std::filesystem::temp_directory_path() /
      ("sllm_generate_cli_test_" + tag + "_" + std::to_string(::getpid()));
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
  const std::string command = env + " " + std::string(SLLM_BIN_DIR) +
                              "/sllm-generate --threads 1 --model " + model + " < " +
                              (tmp / "in.jsonl").string() + " > " + (tmp / "out.jsonl").string();
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

class GenerateCliTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GenerateCliTest, TextPromptsBatchedGiveTheReferenceIds) {
  const std::string dir = std::string(SLLM_TESTDATA_DIR) + "/models/" + GetParam();
  ExpectReferenceIds(dir, dir, "", GetParam());
}

// --model by hub id: fetched from a loopback hub into $HF_HOME/hub, then served offline from
// the cache once the hub is gone.
TEST(GenerateCliHubTest, LoadsAModelByHubIdThenFromTheCacheOffline) {
  const std::string dir = std::string(SLLM_TESTDATA_DIR) + "/models/tiny-mistral";
  const std::filesystem::path home = std::filesystem::temp_directory_path() /
                                     ("sllm_generate_hf_home_" + std::to_string(::getpid()));
  std::filesystem::remove_all(home);
  {
    sllm::hub::FakeHubOptions options;
    options.repo_id = "sllm-test/tiny-mistral";
    options.model_dir = dir;
    sllm::hub::FakeHub hub(options);
    ExpectReferenceIds(dir, "sllm-test/tiny-mistral@main",
                       "HF_ENDPOINT=" + hub.endpoint() + " HF_HOME=" + home.string(), "hub");
    EXPECT_EQ(hub.Count("GET", "/lfs/"), 1);
  }
  EXPECT_TRUE(std::filesystem::exists(home / "hub" / "models--sllm-test--tiny-mistral" / "refs" /
                                      "main"));
  ExpectReferenceIds(dir, "sllm-test/tiny-mistral",
                     "HF_HUB_OFFLINE=1 HF_ENDPOINT=http://127.0.0.1:1 HF_HOME=" + home.string(),
                     "offline");
  std::filesystem::remove_all(home);
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
