#include "services/worker/model/weight_loader.h"

#include <cstring>
#include <map>

#include <ATen/TensorOperators.h>
#include <ATen/ops/arange.h>
#include <ATen/ops/equal.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/worker/loader/test_files.h"
#include "services/worker/model/llama.h"
#include "services/worker/model/model_loader.h"

namespace sllm::worker {
namespace {

using ::sllm::worker::testing::SafetensorsBytes;
using ::sllm::worker::testing::ScratchDir;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

ModelConfig TinyConfig(bool tied) {
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.hidden_size = 8;
  c.intermediate_size = 12;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 4;
  c.vocab_size = 10;
  c.tie_word_embeddings = tied;
  return c;
}

// A checkpoint writer: tensors as (dtype, shape, float values), values 0, 1, 2, ... * scale.
struct Writer {
  struct Tensor {
    std::string dtype;
    std::vector<int64_t> shape;
  };
  std::map<std::string, Tensor> tensors;

  std::string Bytes() const {
    nlohmann::json header = nlohmann::json::object();
    std::string data;
    for (const auto& [name, t] : tensors) {
      int64_t n = 1;
      for (int64_t d : t.shape) n *= d;
      const size_t begin = data.size();
      for (int64_t i = 0; i < n; ++i) {
        const float v = static_cast<float>(i % 7) * 0.25f;  // Exact in bf16 and f16.
        if (t.dtype == "F32") {
          data.append(reinterpret_cast<const char*>(&v), 4);
        } else if (t.dtype == "BF16") {
          uint32_t bits;
          std::memcpy(&bits, &v, 4);
          const uint16_t hi = static_cast<uint16_t>(bits >> 16);
          data.append(reinterpret_cast<const char*>(&hi), 2);
        } else {  // I64
          const int64_t iv = i;
          data.append(reinterpret_cast<const char*>(&iv), 8);
        }
      }
      header[name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
    }
    return SafetensorsBytes(header.dump(), data);
  }
};

Writer FullCheckpoint(const CausalLM& model, const std::string& dtype) {
  Writer w;
  for (const auto& [name, param] : model.NamedParameters()) {
    w.tensors[name] = {dtype, param.sizes().vec()};
  }
  return w;
}

std::unique_ptr<CausalLM> Make(const ModelConfig& config, c10::ScalarType dtype) {
  ModelOptions options;
  options.dtype = dtype;
  auto model = CreateCausalLM(config, options);
  EXPECT_TRUE(model.ok()) << model.status();
  return std::move(*model);
}

absl::Status Load(const CausalLM& model, const Writer& w, const ScratchDir& dir) {
  auto ckpt = Checkpoint::OpenFile(dir.Write("model.safetensors", w.Bytes()));
  EXPECT_TRUE(ckpt.ok()) << ckpt.status();
  return LoadWeights(model, **ckpt,
                     [&](std::string_view n) { return model.IgnoresCheckpointTensor(n); });
}

TEST(WeightLoaderTest, ParameterNamesAreTheCheckpointKeys) {
  auto model = Make(TinyConfig(/*tied=*/false), at::kFloat);
  std::vector<std::string> names;
  for (const auto& [name, p] : model->NamedParameters()) names.push_back(name);
  EXPECT_THAT(names, ::testing::ElementsAre(
                         "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                         "model.layers.0.self_attn.k_proj.weight",
                         "model.layers.0.self_attn.v_proj.weight",
                         "model.layers.0.self_attn.o_proj.weight",
                         "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight",
                         "model.layers.0.mlp.down_proj.weight",
                         "model.layers.0.input_layernorm.weight",
                         "model.layers.0.post_attention_layernorm.weight", "model.norm.weight",
                         "lm_head.weight"));
  ModelConfig biased = TinyConfig(/*tied=*/true);
  biased.attention_bias = true;
  biased.mlp_bias = true;
  auto with_bias = Make(biased, at::kFloat);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& [name, p] : with_bias->NamedParameters()) shapes[name] = p.sizes().vec();
  EXPECT_EQ(shapes.size(), 11u + 7u);  // No lm_head; 7 biases.
  EXPECT_EQ(shapes["model.layers.0.self_attn.k_proj.bias"], std::vector<int64_t>{4});
  EXPECT_EQ(shapes["model.layers.0.mlp.down_proj.bias"], std::vector<int64_t>{8});
  EXPECT_EQ(shapes["model.layers.0.self_attn.q_proj.weight"], (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(shapes["model.layers.0.self_attn.v_proj.weight"], (std::vector<int64_t>{4, 8}));
}

TEST(WeightLoaderTest, CastsBfloat16ToFloat32Exactly) {
  ScratchDir dir;
  auto model = Make(TinyConfig(false), at::kFloat);
  ASSERT_TRUE(Load(*model, FullCheckpoint(*model, "BF16"), dir).ok());
  for (const auto& [name, p] : model->NamedParameters()) {
    const at::Tensor expected = (at::arange(p.numel(), at::kLong) % 7).to(at::kFloat) * 0.25;
    EXPECT_TRUE(at::equal(p.reshape({-1}), expected)) << name;
  }
  auto bf16 = Make(TinyConfig(false), at::kBFloat16);
  ASSERT_TRUE(Load(*bf16, FullCheckpoint(*bf16, "F32"), dir).ok());
  EXPECT_EQ(bf16->NamedParameters()[0].second.scalar_type(), at::kBFloat16);
  EXPECT_EQ(bf16->NamedParameters()[0].second[0][3].item<float>(), 0.75f);
}

TEST(WeightLoaderTest, TiedModelIgnoresAStoredLmHead) {
  ScratchDir dir;
  auto model = Make(TinyConfig(/*tied=*/true), at::kFloat);
  Writer w = FullCheckpoint(*model, "F32");
  w.tensors["lm_head.weight"] = {"F32", {10, 8}};
  w.tensors["model.layers.0.self_attn.rotary_emb.inv_freq"] = {"F32", {2}};
  EXPECT_TRUE(Load(*model, w, dir).ok());
}

TEST(WeightLoaderTest, ReportsEveryProblemInOneError) {
  ScratchDir dir;
  auto model = Make(TinyConfig(false), at::kFloat);
  Writer w = FullCheckpoint(*model, "F32");
  w.tensors.erase("lm_head.weight");
  w.tensors.erase("model.layers.0.mlp.up_proj.weight");
  w.tensors["model.layers.1.mlp.up_proj.weight"] = {"F32", {12, 8}};
  w.tensors["extra.bias"] = {"F32", {3}};
  w.tensors["model.norm.weight"] = {"F32", {9}};
  w.tensors["model.layers.0.input_layernorm.weight"] = {"I64", {8}};
  const absl::Status status = Load(*model, w, dir);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(),
              AllOf(HasSubstr("2 missing tensors: model.layers.0.mlp.up_proj.weight, "
                              "lm_head.weight"),
                    HasSubstr("2 unexpected tensors: extra.bias, "
                              "model.layers.1.mlp.up_proj.weight"),
                    HasSubstr("1 shape mismatches: model.norm.weight (checkpoint [9], model [8])"),
                    HasSubstr("model.layers.0.input_layernorm.weight (I64)")));
}

TEST(WeightLoaderTest, LoadModelPrefixesTheFolder) {
  ScratchDir dir;
  dir.Write("config.json", R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8,
      "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2,
      "num_key_value_heads": 1, "vocab_size": 10, "tie_word_embeddings": true})");
  auto model = Make(TinyConfig(true), at::kFloat);
  Writer w = FullCheckpoint(*model, "BF16");
  w.tensors.erase("model.norm.weight");
  dir.Write("model.safetensors", w.Bytes());
  auto loaded = LoadModel(dir.path(), ModelOptions());
  EXPECT_THAT(loaded.status().message(),
              AllOf(HasSubstr(dir.path()), HasSubstr("1 missing tensors: model.norm.weight"),
                    Not(HasSubstr("unexpected"))));
  w.tensors["model.norm.weight"] = {"F32", {8}};
  dir.Write("model.safetensors", w.Bytes());
  auto ok = LoadModel(dir.path(), ModelOptions());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_TRUE(ok->generation_config.eos_token_ids.empty());

  dir.Write("config.json", R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8,
      "intermediate_size": 12, "num_hidden_layers": 1, "num_attention_heads": 2,
      "vocab_size": 10, "hidden_act": "gelu"})");
  EXPECT_THAT(LoadModel(dir.path(), ModelOptions()).status().message(),
              HasSubstr("hidden_act 'gelu'"));
}

TEST(ModelOptionsTest, ParsesDtypesAndDevices) {
  EXPECT_EQ(*ParseServingDType("bfloat16"), at::kBFloat16);
  EXPECT_EQ(*ParseServingDType("fp32"), at::kFloat);
  EXPECT_EQ(*ParseServingDType("float16"), at::kHalf);
  EXPECT_THAT(ParseServingDType("int8").status().message(), HasSubstr("'int8'"));
  EXPECT_TRUE(ParseDevice("cpu")->is_cpu());
  EXPECT_THAT(ParseDevice("tpu:0").status().message(), HasSubstr("'tpu:0'"));
  EXPECT_THAT(ParseDevice("cuda:x").status().message(), HasSubstr("'cuda:x'"));
}

}  // namespace
}  // namespace sllm::worker
