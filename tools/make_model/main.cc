// sllm-make-model: writes a synthetic Llama model folder (config.json, generation_config.json,
// model.safetensors) with deterministic random weights, for benchmarks of a given shape.
//   sllm-make-model --out DIR --shape tiny|small [--dtype F32|BF16|F16] [--seed N]
// Shapes are those of ../shared/testdata/perf (llama.cpp's reference figures).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "gflags/gflags.h"
#include "nlohmann/json.hpp"

DEFINE_string(out, "", "Output folder");
DEFINE_string(shape, "tiny", "tiny (36M) or small (702M), as in testdata/perf");
DEFINE_string(dtype, "F32", "On-disk dtype: F32, BF16 or F16");
DEFINE_uint64(seed, 1, "Seed of the weights");

namespace {

struct Shape {
  int hidden, layers, heads, kv_heads, ffn, vocab;
  bool tied;
};

uint64_t Next(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint16_t ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1);  // Round to nearest even.
  return static_cast<uint16_t>(u >> 16);
}

uint16_t ToF16(float f) {
  // Values here are small and normal: a simple rounding conversion is exact enough.
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const uint32_t sign = (u >> 16) & 0x8000;
  int32_t exp = static_cast<int32_t>((u >> 23) & 0xFF) - 127 + 15;
  uint32_t mant = u & 0x7FFFFF;
  if (exp <= 0) return static_cast<uint16_t>(sign);
  if (exp >= 31) return static_cast<uint16_t>(sign | 0x7C00);
  mant += 0x1000;
  if (mant & 0x800000) {
    mant = 0;
    ++exp;
  }
  return static_cast<uint16_t>(sign | (exp << 10) | (mant >> 13));
}

}  // namespace

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  Shape s;
  if (FLAGS_shape == "tiny") s = {256, 4, 8, 4, 768, 128256, true};
  else if (FLAGS_shape == "small") s = {2048, 4, 32, 4, 5632, 128256, false};
  else {
    std::cerr << "--shape must be tiny or small\n";
    return 2;
  }
  const size_t elem = FLAGS_dtype == "F32" ? 4 : 2;
  if (FLAGS_out.empty() || (FLAGS_dtype != "F32" && FLAGS_dtype != "BF16" && FLAGS_dtype != "F16")) {
    std::cerr << "usage: sllm-make-model --out DIR --shape tiny|small --dtype F32|BF16|F16\n";
    return 2;
  }
  const int head_dim = s.hidden / s.heads;
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors;
  auto add = [&](std::string name, std::vector<int64_t> shape) { tensors.emplace_back(name, shape); };
  add("model.embed_tokens.weight", {s.vocab, s.hidden});
  for (int l = 0; l < s.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {s.hidden});
    add(p + "self_attn.q_proj.weight", {s.heads * head_dim, s.hidden});
    add(p + "self_attn.k_proj.weight", {s.kv_heads * head_dim, s.hidden});
    add(p + "self_attn.v_proj.weight", {s.kv_heads * head_dim, s.hidden});
    add(p + "self_attn.o_proj.weight", {s.hidden, s.heads * head_dim});
    add(p + "post_attention_layernorm.weight", {s.hidden});
    add(p + "mlp.gate_proj.weight", {s.ffn, s.hidden});
    add(p + "mlp.up_proj.weight", {s.ffn, s.hidden});
    add(p + "mlp.down_proj.weight", {s.hidden, s.ffn});
  }
  add("model.norm.weight", {s.hidden});
  if (!s.tied) add("lm_head.weight", {s.vocab, s.hidden});

  nlohmann::ordered_json header;
  size_t offset = 0;
  for (const auto& [name, shape] : tensors) {
    size_t n = 1;
    for (int64_t d : shape) n *= d;
    header[name] = {{"dtype", FLAGS_dtype}, {"shape", shape}, {"data_offsets", {offset, offset + n * elem}}};
    offset += n * elem;
  }
  std::string h = header.dump();
  while (h.size() % 8 != 0) h += ' ';
  std::filesystem::create_directories(FLAGS_out);
  std::ofstream out(FLAGS_out + "/model.safetensors", std::ios::binary);
  const uint64_t hlen = h.size();
  out.write(reinterpret_cast<const char*>(&hlen), 8);
  out.write(h.data(), h.size());
  uint64_t state = FLAGS_seed;
  std::vector<char> buf;
  for (const auto& [name, shape] : tensors) {
    size_t n = 1;
    for (int64_t d : shape) n *= d;
    const bool norm = name.find("norm") != std::string::npos;
    const float scale = norm ? 0.0f : 1.0f / std::sqrt(static_cast<float>(shape.back()));
    buf.resize(n * elem);
    for (size_t i = 0; i < n; ++i) {
      const float u = static_cast<float>((Next(state) >> 40) * 0x1.0p-24) * 2.0f - 1.0f;
      const float v = norm ? 1.0f : u * scale * 1.7320508f;  // Uniform with std = scale.
      if (elem == 4) std::memcpy(&buf[i * 4], &v, 4);
      else {
        const uint16_t b = FLAGS_dtype == "BF16" ? ToBf16(v) : ToF16(v);
        std::memcpy(&buf[i * 2], &b, 2);
      }
    }
    out.write(buf.data(), buf.size());
  }
  nlohmann::ordered_json config = {
      {"architectures", {"LlamaForCausalLM"}}, {"model_type", "llama"},
      {"hidden_size", s.hidden}, {"intermediate_size", s.ffn}, {"num_hidden_layers", s.layers},
      {"num_attention_heads", s.heads}, {"num_key_value_heads", s.kv_heads},
      {"head_dim", head_dim}, {"vocab_size", s.vocab}, {"max_position_embeddings", 4096},
      {"rms_norm_eps", 1e-5}, {"rope_theta", 500000.0}, {"hidden_act", "silu"},
      {"tie_word_embeddings", s.tied}, {"bos_token_id", 128000}, {"eos_token_id", 128001},
      {"torch_dtype", FLAGS_dtype == "F32" ? "float32" : FLAGS_dtype == "BF16" ? "bfloat16" : "float16"}};
  std::ofstream(FLAGS_out + "/config.json") << config.dump(2) << "\n";
  std::ofstream(FLAGS_out + "/generation_config.json")
      << nlohmann::json{{"bos_token_id", 128000}, {"eos_token_id", 128001}}.dump(2) << "\n";
  std::cout << "wrote " << FLAGS_out << ": " << tensors.size() << " tensors, " << offset
            << " bytes of " << FLAGS_dtype << "\n";
  return 0;
}
