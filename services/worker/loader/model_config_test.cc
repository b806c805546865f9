#include "services/worker/loader/model_config.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/worker/loader/generation_config.h"

namespace sllm::worker {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kStories = std::string(SLLM_MODELS_DIR) + "/stories260K";
const std::string kTinyLlama3 = std::string(SLLM_TESTDATA_DIR) + "/models/tiny-llama3";

TEST(ModelConfigTest, ParsesStories260K) {
  auto c = LoadModelConfig(kStories);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->architecture, "LlamaForCausalLM");
  EXPECT_EQ(c->model_type, "llama");
  EXPECT_EQ(c->hidden_size, 64);
  EXPECT_EQ(c->intermediate_size, 172);
  EXPECT_EQ(c->num_hidden_layers, 5);
  EXPECT_EQ(c->num_attention_heads, 8);
  EXPECT_EQ(c->num_key_value_heads, 4);
  EXPECT_EQ(c->head_dim, 8);
  EXPECT_EQ(c->vocab_size, 512);
  EXPECT_EQ(c->max_position_embeddings, 512);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-5);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kNone);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_FALSE(c->attention_bias);
  EXPECT_FALSE(c->mlp_bias);
  EXPECT_EQ(c->hidden_act, "silu");
  EXPECT_FALSE(c->sliding_window.has_value());
  EXPECT_EQ(c->torch_dtype, "float32");
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_THAT(c->eos_token_ids, ElementsAre(2));
}

TEST(ModelConfigTest, ParsesTinyLlama3WithLlama3RopeScaling) {
  auto c = LoadModelConfig(kTinyLlama3);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_EQ(c->num_key_value_heads, 2);
  EXPECT_EQ(c->vocab_size, 128256);
  EXPECT_DOUBLE_EQ(c->rope_theta, 500000.0);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(c->rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c->rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c->rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_EQ(c->torch_dtype, "bfloat16");
  EXPECT_THAT(c->eos_token_ids, ElementsAre(128001, 128008, 128009));
}

TEST(ModelConfigTest, GenerationConfigs) {
  auto stories = LoadGenerationConfig(kStories);
  ASSERT_TRUE(stories.ok()) << stories.status();
  EXPECT_THAT(stories->eos_token_ids, ElementsAre(2, 1));
  EXPECT_EQ(stories->bos_token_id, 1);
  auto llama = LoadGenerationConfig(kTinyLlama3);
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_THAT(llama->eos_token_ids, ElementsAre(128001, 128008, 128009));
  EXPECT_FALSE(llama->do_sample);

  auto config = LoadModelConfig(kStories);
  ASSERT_TRUE(config.ok());
  EXPECT_THAT(EosTokenIds(*config, *stories), ElementsAre(2, 1));
  EXPECT_THAT(EosTokenIds(*config, GenerationConfig()), ElementsAre(2));

  auto sampling = ParseGenerationConfig(
      R"({"eos_token_id": 7, "do_sample": true, "temperature": 0.6, "top_p": 0.9, "top_k": 50})");
  ASSERT_TRUE(sampling.ok()) << sampling.status();
  EXPECT_THAT(sampling->eos_token_ids, ElementsAre(7));
  EXPECT_TRUE(sampling->do_sample);
  EXPECT_DOUBLE_EQ(*sampling->temperature, 0.6);
  EXPECT_EQ(*sampling->top_k, 50);

  auto missing = LoadGenerationConfig("/nonexistent");
  ASSERT_TRUE(missing.ok());
  EXPECT_TRUE(missing->eos_token_ids.empty());

  auto bad = ParseGenerationConfig(R"({"eos_token_id": [1, "2"]})");
  EXPECT_THAT(bad.status().message(), AllOf(HasSubstr("eos_token_id"), HasSubstr("[1,\"2\"]")));
}

// A minimal valid Llama config with `patch` merged in (null values remove keys).
absl::StatusOr<ModelConfig> Parse(const std::string& patch) {
  nlohmann::json j = {{"architectures", {"LlamaForCausalLM"}},
                      {"hidden_size", 32},
                      {"intermediate_size", 64},
                      {"num_hidden_layers", 2},
                      {"num_attention_heads", 4},
                      {"vocab_size", 100}};
  j.merge_patch(nlohmann::json::parse(patch));
  return ParseModelConfig(j.dump());
}

TEST(ModelConfigTest, DefaultsFollowTransformers) {
  auto c = Parse("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->num_key_value_heads, 4);
  EXPECT_EQ(c->head_dim, 8);
  EXPECT_EQ(c->max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c->rms_norm_eps, 1e-6);
  EXPECT_DOUBLE_EQ(c->rope_theta, 10000.0);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kNone);
  EXPECT_TRUE(c->torch_dtype.empty());

  auto by_type = Parse(R"({"architectures": null, "model_type": "llama"})");
  ASSERT_TRUE(by_type.ok()) << by_type.status();
  EXPECT_EQ(by_type->architecture, "LlamaForCausalLM");
}

TEST(ModelConfigTest, RopeScalingVariants) {
  auto linear = Parse(R"({"rope_scaling": {"type": "linear", "factor": 2.0}})");
  ASSERT_TRUE(linear.ok()) << linear.status();
  EXPECT_EQ(linear->rope_scaling.type, RopeScalingType::kLinear);
  EXPECT_DOUBLE_EQ(linear->rope_scaling.factor, 2.0);

  auto by_default = Parse(R"({"rope_scaling": {"rope_type": "default"}})");
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  EXPECT_EQ(by_default->rope_scaling.type, RopeScalingType::kNone);

  // transformers 5 layout.
  auto v5 = Parse(R"({"rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0,
      "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
      "original_max_position_embeddings": 8192}, "dtype": "bfloat16"})");
  ASSERT_TRUE(v5.ok()) << v5.status();
  EXPECT_EQ(v5->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_DOUBLE_EQ(v5->rope_scaling.factor, 32.0);
  EXPECT_DOUBLE_EQ(v5->rope_theta, 500000.0);
  EXPECT_EQ(v5->torch_dtype, "bfloat16");
}

TEST(ModelConfigTest, ErrorsNameTheKeyAndValue) {
  struct Case {
    std::string patch;
    absl::StatusCode code;
    std::vector<std::string> parts;
  };
  const absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
  const std::vector<Case> cases = {
      {R"({"architectures": ["GPT2LMHeadModel"]})", absl::StatusCode::kUnimplemented,
       {"unsupported architecture 'GPT2LMHeadModel'", "LlamaForCausalLM"}},
      {R"({"architectures": null, "model_type": "gpt2"})", kInvalid, {"model_type 'gpt2'"}},
      {R"({"architectures": "LlamaForCausalLM"})", kInvalid, {"architectures", "list"}},
      {R"({"hidden_size": "32"})", kInvalid, {"hidden_size must be an integer", "\"32\""}},
      {R"({"hidden_size": 0})", kInvalid, {"hidden_size must be > 0, got 0"}},
      {R"({"vocab_size": null})", kInvalid, {"vocab_size is missing"}},
      {R"({"num_key_value_heads": 3})", kInvalid, {"num_key_value_heads 3", "4"}},
      {R"({"hidden_size": 30})", kInvalid, {"hidden_size 30", "num_attention_heads 4"}},
      {R"({"head_dim": 7})", kInvalid, {"head_dim", "7"}},
      {R"({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}})",
       absl::StatusCode::kUnimplemented, {"rope_scaling type 'yarn'"}},
      {R"({"rope_scaling": {"rope_type": "linear"}})", kInvalid, {"rope_scaling.factor is missing"}},
      {R"({"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
           "high_freq_factor": 4.0}})",
       kInvalid, {"rope_scaling.original_max_position_embeddings is missing"}},
      {R"({"rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 4.0,
           "high_freq_factor": 1.0, "original_max_position_embeddings": 8192}})",
       kInvalid, {"high_freq_factor 1", "low_freq_factor 4"}},
      {R"({"rope_scaling": [1]})", kInvalid, {"rope_scaling must be an object"}},
      {R"({"rope_theta": -1})", kInvalid, {"rope_theta must be > 0, got -1"}},
      {R"({"rms_norm_eps": "x"})", kInvalid, {"rms_norm_eps must be a number", "\"x\""}},
      {R"({"tie_word_embeddings": 1})", kInvalid, {"tie_word_embeddings must be true or false"}},
      {R"({"sliding_window": 0})", kInvalid, {"sliding_window must be > 0"}},
      {R"({"eos_token_id": "2"})", kInvalid, {"eos_token_id", "\"2\""}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.patch);
    auto config = Parse(c.patch);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), c.code) << config.status();
    for (const std::string& part : c.parts) {
      EXPECT_THAT(config.status().message(), HasSubstr(part));
    }
  }
  EXPECT_THAT(ParseModelConfig("{").status().message(), HasSubstr("not a valid JSON object"));
  auto missing = LoadModelConfig("/nonexistent");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/config.json"));
}

}  // namespace
}  // namespace sllm::worker
