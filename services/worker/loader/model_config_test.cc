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
const std::string kTinyExaone4 = std::string(SLLM_TESTDATA_DIR) + "/models/tiny-exaone4";
const std::string kTinyPhi2 = std::string(SLLM_TESTDATA_DIR) + "/models/tiny-phi2";
const std::string kTinyMistral = std::string(SLLM_TESTDATA_DIR) + "/models/tiny-mistral";

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

// `base` with the top-level keys of `patch` set (a null value stands for a key set to null).
absl::StatusOr<ModelConfig> Patched(nlohmann::json base, const std::string& patch) {
  base.update(nlohmann::json::parse(patch));
  return ParseModelConfig(base.dump());
}

// A minimal valid Llama config with `patch` merged in.
absl::StatusOr<ModelConfig> Parse(const std::string& patch) {
  return Patched({{"architectures", {"LlamaForCausalLM"}},
                  {"hidden_size", 32},
                  {"intermediate_size", 64},
                  {"num_hidden_layers", 2},
                  {"num_attention_heads", 4},
                  {"vocab_size", 100}},
                 patch);
}

TEST(ModelConfigTest, ParsesTinyExaone4HybridLayers) {
  auto c = LoadModelConfig(kTinyExaone4);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->architecture, "Exaone4ForCausalLM");
  EXPECT_EQ(c->sliding_window, 16);
  EXPECT_THAT(c->layer_types, ElementsAre("sliding_attention", "sliding_attention",
                                          "sliding_attention", "full_attention"));
  EXPECT_EQ(c->AttentionWindow(0), 16);
  EXPECT_EQ(c->AttentionWindow(3), 0);
  EXPECT_EQ(c->rope_scaling.type, RopeScalingType::kLlama3);
  EXPECT_TRUE(c->tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c->partial_rotary_factor, 1.0);
}

TEST(ModelConfigTest, ParsesTinyPhi2) {
  auto c = LoadModelConfig(kTinyPhi2);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->architecture, "PhiForCausalLM");
  EXPECT_EQ(c->hidden_act, "gelu_new");
  EXPECT_DOUBLE_EQ(c->partial_rotary_factor, 0.4);
  EXPECT_DOUBLE_EQ(c->layer_norm_eps, 1e-5);
  EXPECT_EQ(c->head_dim, 20);
  EXPECT_FALSE(c->qk_layernorm);
  EXPECT_EQ(c->AttentionWindow(0), 0);
}

TEST(ModelConfigTest, ParsesTinyMistralSlidingWindowOnEveryLayer) {
  auto c = LoadModelConfig(kTinyMistral);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->architecture, "MistralForCausalLM");
  EXPECT_EQ(c->num_key_value_heads, 2);
  for (int64_t layer = 0; layer < c->num_hidden_layers; ++layer) {
    EXPECT_EQ(c->AttentionWindow(layer), 32);
  }
}

TEST(ModelConfigTest, LayerTypesFollowTheTransformersConfigClasses) {
  const nlohmann::json exaone = {{"architectures", {"Exaone4ForCausalLM"}},
                                 {"hidden_size", 32}, {"intermediate_size", 64},
                                 {"num_hidden_layers", 6}, {"num_attention_heads", 4},
                                 {"vocab_size", 100}};
  // Exaone4Config defaults: a 4096 window and every 4th layer full.
  auto defaults = Patched(exaone, "{}");
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_EQ(defaults->sliding_window, 4096);
  EXPECT_THAT(defaults->layer_types,
              ElementsAre("sliding_attention", "sliding_attention", "sliding_attention",
                          "full_attention", "sliding_attention", "sliding_attention"));
  auto by_string = Patched(exaone, R"({"sliding_window": 8, "sliding_window_pattern": "LG"})");
  ASSERT_TRUE(by_string.ok()) << by_string.status();
  EXPECT_EQ(by_string->AttentionWindow(0), 8);
  EXPECT_EQ(by_string->AttentionWindow(1), 0);
  EXPECT_EQ(by_string->AttentionWindow(4), 8);
  // EXAONE-4.0-1.2B style: no window, every layer global.
  auto global = Patched(exaone, R"({"sliding_window": null})");
  ASSERT_TRUE(global.ok()) << global.status();
  for (int64_t layer = 0; layer < 6; ++layer) EXPECT_EQ(global->AttentionWindow(layer), 0);

  // MistralConfig defaults to a 4096 window; null turns it off; Llama ignores the key.
  auto mistral = Parse(R"({"architectures": ["MistralForCausalLM"]})");
  ASSERT_TRUE(mistral.ok()) << mistral.status();
  EXPECT_EQ(mistral->AttentionWindow(1), 4096);
  auto mistral_off = Parse(R"({"architectures": ["MistralForCausalLM"], "sliding_window": null})");
  ASSERT_TRUE(mistral_off.ok()) << mistral_off.status();
  EXPECT_EQ(mistral_off->AttentionWindow(1), 0);
  auto llama = Parse(R"({"sliding_window": 64})");
  ASSERT_TRUE(llama.ok()) << llama.status();
  EXPECT_EQ(llama->AttentionWindow(0), 0);

  // PhiConfig defaults.
  auto phi = Parse(R"({"architectures": null, "model_type": "phi"})");
  ASSERT_TRUE(phi.ok()) << phi.status();
  EXPECT_EQ(phi->architecture, "PhiForCausalLM");
  EXPECT_EQ(phi->hidden_act, "gelu_new");
  EXPECT_DOUBLE_EQ(phi->partial_rotary_factor, 0.5);

  struct Case {
    std::string patch;
    std::vector<std::string> parts;
  };
  const std::vector<Case> bad = {
      {R"({"layer_types": ["full_attention"]})", {"layer_types must be a list of", "(6)"}},
      {R"({"layer_types": ["full_attention", "full_attention", "global", "full_attention",
           "full_attention", "full_attention"]})",
       {"layer_types[2]", "\"global\""}},
      {R"({"sliding_window": null, "layer_types": ["sliding_attention", "full_attention",
           "full_attention", "full_attention", "full_attention", "full_attention"]})",
       {"sliding_window is null"}},
      {R"({"sliding_window_pattern": "LX"})", {"sliding_window_pattern", "\"LX\""}},
      {R"({"sliding_window_pattern": 0})", {"sliding_window_pattern", "0"}},
      {R"({"partial_rotary_factor": 0.1})", {"partial_rotary_factor", "0.1", "0 dims"}},
      {R"({"partial_rotary_factor": 1.5})", {"partial_rotary_factor", "1.5"}},
      {R"({"layer_norm_eps": 0})", {"layer_norm_eps must be > 0, got 0"}},
  };
  for (const Case& c : bad) {
    SCOPED_TRACE(c.patch);
    auto config = Patched(exaone, c.patch);
    ASSERT_FALSE(config.ok());
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument) << config.status();
    for (const std::string& part : c.parts) {
      EXPECT_THAT(config.status().message(), HasSubstr(part));
    }
  }
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
