#include "services/worker/loader/model_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"
#include "services/worker/loader/json_fields.h"

namespace sllm::worker {
namespace {

using Json = nlohmann::json;
namespace jf = json_fields;

constexpr char kLlama[] = "LlamaForCausalLM";
constexpr char kMistral[] = "MistralForCausalLM";
constexpr char kExaone4[] = "Exaone4ForCausalLM";
constexpr char kPhi[] = "PhiForCausalLM";
constexpr char kFullAttention[] = "full_attention";
constexpr char kSlidingAttention[] = "sliding_attention";

// model_type -> architecture, for configs without "architectures".
std::string ArchitectureOfModelType(const std::string& model_type) {
  if (model_type == "llama") return kLlama;
  if (model_type == "mistral") return kMistral;
  if (model_type == "exaone4") return kExaone4;
  if (model_type == "phi") return kPhi;
  return "";
}

absl::Status ParseArchitecture(const Json& j, ModelConfig& c) {
  ASSIGN_OR_RETURN(std::optional<std::string> model_type, jf::String(j, "model_type"));
  c.model_type = model_type.value_or("");
  if (j.contains("architectures") && !j["architectures"].is_null()) {
    const Json& list = j["architectures"];
    if (!list.is_array() || list.empty() ||
        !std::all_of(list.begin(), list.end(), [](const Json& a) { return a.is_string(); })) {
      return absl::InvalidArgumentError(
          absl::StrCat("architectures must be a non-empty list of strings, got ", jf::Show(list)));
    }
    for (const Json& a : list) c.architectures.push_back(a.get<std::string>());
    c.architecture = c.architectures.front();
  } else {
    c.architecture = ArchitectureOfModelType(c.model_type);
    if (c.architecture.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config has no architectures and an unknown model_type '", c.model_type, "'"));
    }
  }
  const auto& supported = SupportedArchitectures();
  if (std::find(supported.begin(), supported.end(), c.architecture) == supported.end()) {
    return absl::UnimplementedError(absl::StrCat("unsupported architecture '", c.architecture,
                                                 "' (supported: ", absl::StrJoin(supported, ", "),
                                                 ")"));
  }
  return absl::OkStatus();
}

absl::Status ParseSizes(const Json& j, ModelConfig& c) {
  ASSIGN_OR_RETURN(c.hidden_size, jf::RequiredPositiveInt(j, "hidden_size"));
  ASSIGN_OR_RETURN(c.intermediate_size, jf::RequiredPositiveInt(j, "intermediate_size"));
  ASSIGN_OR_RETURN(c.num_hidden_layers, jf::RequiredPositiveInt(j, "num_hidden_layers"));
  ASSIGN_OR_RETURN(c.num_attention_heads, jf::RequiredPositiveInt(j, "num_attention_heads"));
  ASSIGN_OR_RETURN(c.vocab_size, jf::RequiredPositiveInt(j, "vocab_size"));
  ASSIGN_OR_RETURN(std::optional<int64_t> kv_heads, jf::Int(j, "num_key_value_heads"));
  ASSIGN_OR_RETURN(std::optional<int64_t> head_dim, jf::Int(j, "head_dim"));
  ASSIGN_OR_RETURN(std::optional<int64_t> max_pos, jf::Int(j, "max_position_embeddings"));

  c.num_key_value_heads = kv_heads.value_or(c.num_attention_heads);
  if (c.num_key_value_heads <= 0 || c.num_attention_heads % c.num_key_value_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "num_key_value_heads ", c.num_key_value_heads, " must be > 0 and divide num_attention_heads ",
        c.num_attention_heads));
  }
  if (head_dim.has_value()) {
    c.head_dim = *head_dim;
  } else if (c.hidden_size % c.num_attention_heads == 0) {
    c.head_dim = c.hidden_size / c.num_attention_heads;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("hidden_size ", c.hidden_size, " is not a multiple of num_attention_heads ",
                     c.num_attention_heads, " and head_dim is not given"));
  }
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("head_dim must be a positive even number, got ", c.head_dim));
  }
  if (max_pos.has_value()) c.max_position_embeddings = *max_pos;
  if (c.max_position_embeddings <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("max_position_embeddings must be > 0, got ",
                                                   c.max_position_embeddings));
  }
  return absl::OkStatus();
}

absl::StatusOr<double> RequiredPositive(const Json& j, const std::string& key) {
  ASSIGN_OR_RETURN(std::optional<double> v, jf::Number(j, key));
  if (!v.has_value()) return absl::InvalidArgumentError(absl::StrCat(key, " is missing"));
  if (!(*v > 0)) return absl::InvalidArgumentError(absl::StrCat(key, " must be > 0, got ", *v));
  return *v;
}

// `rope` is the rope_scaling (or transformers 5 rope_parameters) object.
absl::StatusOr<RopeScaling> ParseRopeScaling(const Json& rope) {
  RopeScaling s;
  if (rope.is_null()) return s;
  if (!rope.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("rope_scaling must be an object or null, got ", jf::Show(rope)));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> type, jf::String(rope, "rope_type"));
  if (!type.has_value()) {
    ASSIGN_OR_RETURN(type, jf::String(rope, "type"));  // The older key.
  }
  const std::string name = type.value_or("default");
  auto field = [](const std::string& key) { return absl::StrCat("rope_scaling.", key); };
  if (name == "default") return s;
  if (name == "linear") {
    s.type = RopeScalingType::kLinear;
    auto factor = RequiredPositive(rope, "factor");
    if (!factor.ok()) return absl::InvalidArgumentError(field(std::string(factor.status().message())));
    s.factor = *factor;
    return s;
  }
  if (name == "llama3") {
    s.type = RopeScalingType::kLlama3;
    for (auto [key, out] : {std::pair<const char*, double*>{"factor", &s.factor},
                            {"low_freq_factor", &s.low_freq_factor},
                            {"high_freq_factor", &s.high_freq_factor}}) {
      auto v = RequiredPositive(rope, key);
      if (!v.ok()) return absl::InvalidArgumentError(field(std::string(v.status().message())));
      *out = *v;
    }
    auto original = jf::RequiredPositiveInt(rope, "original_max_position_embeddings");
    if (!original.ok()) {
      return absl::InvalidArgumentError(field(std::string(original.status().message())));
    }
    s.original_max_position_embeddings = *original;
    if (s.high_freq_factor <= s.low_freq_factor) {
      return absl::InvalidArgumentError(absl::StrCat(
          "rope_scaling.high_freq_factor ", s.high_freq_factor,
          " must be greater than low_freq_factor ", s.low_freq_factor));
    }
    return s;
  }
  return absl::UnimplementedError(absl::StrCat("rope_scaling type '", name,
                                               "' is not supported (supported: linear, llama3)"));
}

absl::Status ParsePartialRotary(const Json& j, ModelConfig& c) {
  ASSIGN_OR_RETURN(std::optional<double> factor, jf::Number(j, "partial_rotary_factor"));
  c.partial_rotary_factor = factor.value_or(c.architecture == kPhi ? 0.5 : 1.0);  // PhiConfig: 0.5.
  const auto rotary_dim = static_cast<int64_t>(c.head_dim * c.partial_rotary_factor);
  if (!(c.partial_rotary_factor > 0 && c.partial_rotary_factor <= 1) || rotary_dim <= 0 ||
      rotary_dim % 2 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "partial_rotary_factor must be in (0, 1] and give an even number of rotary dims of "
        "head_dim ",
        c.head_dim, ", got ", c.partial_rotary_factor, " (", rotary_dim, " dims)"));
  }
  return absl::OkStatus();
}

absl::Status ParseRope(const Json& j, ModelConfig& c) {
  RETURN_IF_ERROR(ParsePartialRotary(j, c));
  // transformers 5 writes {"rope_parameters": {"rope_type", "rope_theta", ...}}; older
  // versions rope_theta and rope_scaling at the top level.
  const bool v5 = j.contains("rope_parameters") && j["rope_parameters"].is_object();
  const Json& rope = v5 ? j["rope_parameters"] : j.value("rope_scaling", Json());
  ASSIGN_OR_RETURN(c.rope_scaling, ParseRopeScaling(rope));
  ASSIGN_OR_RETURN(std::optional<double> theta, jf::Number(v5 ? rope : j, "rope_theta"));
  if (theta.has_value()) c.rope_theta = *theta;
  if (!(c.rope_theta > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("rope_theta must be > 0, got ", c.rope_theta));
  }
  return absl::OkStatus();
}

absl::Status ParseFlags(const Json& j, ModelConfig& c) {
  ASSIGN_OR_RETURN(std::optional<double> eps, jf::Number(j, "rms_norm_eps"));
  if (eps.has_value()) c.rms_norm_eps = *eps;
  if (!(c.rms_norm_eps > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("rms_norm_eps must be > 0, got ", c.rms_norm_eps));
  }
  ASSIGN_OR_RETURN(std::optional<bool> tie, jf::Bool(j, "tie_word_embeddings"));
  c.tie_word_embeddings = tie.value_or(false);
  ASSIGN_OR_RETURN(std::optional<bool> attention_bias, jf::Bool(j, "attention_bias"));
  c.attention_bias = attention_bias.value_or(false);
  ASSIGN_OR_RETURN(std::optional<bool> mlp_bias, jf::Bool(j, "mlp_bias"));
  c.mlp_bias = mlp_bias.value_or(false);
  const bool phi = c.architecture == kPhi;
  ASSIGN_OR_RETURN(std::optional<std::string> act, jf::String(j, "hidden_act"));
  c.hidden_act = act.value_or(phi ? "gelu_new" : "silu");
  ASSIGN_OR_RETURN(std::optional<double> ln_eps, jf::Number(j, "layer_norm_eps"));
  if (ln_eps.has_value()) c.layer_norm_eps = *ln_eps;
  if (!(c.layer_norm_eps > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("layer_norm_eps must be > 0, got ", c.layer_norm_eps));
  }
  ASSIGN_OR_RETURN(std::optional<bool> qk_layernorm, jf::Bool(j, "qk_layernorm"));
  c.qk_layernorm = qk_layernorm.value_or(false);
  ASSIGN_OR_RETURN(c.sliding_window, jf::Int(j, "sliding_window"));
  // MistralConfig and Exaone4Config default to a 4096-token window when the key is absent
  // (an explicit null turns it off).
  if (!j.contains("sliding_window") && (c.architecture == kMistral || c.architecture == kExaone4)) {
    c.sliding_window = 4096;
  }
  if (c.sliding_window.has_value() && *c.sliding_window <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("sliding_window must be > 0 or null, got ", *c.sliding_window));
  }
  ASSIGN_OR_RETURN(std::optional<std::string> dtype, jf::String(j, "torch_dtype"));
  if (!dtype.has_value()) {
    ASSIGN_OR_RETURN(dtype, jf::String(j, "dtype"));  // transformers 5.
  }
  c.torch_dtype = dtype.value_or("");
  ASSIGN_OR_RETURN(c.bos_token_id, jf::Int(j, "bos_token_id"));
  ASSIGN_OR_RETURN(std::optional<std::vector<int64_t>> eos, jf::IntOrIntList(j, "eos_token_id"));
  c.eos_token_ids = eos.value_or(std::vector<int64_t>());
  return absl::OkStatus();
}

// EXAONE 4: layer_types, else sliding_window_pattern (an int n: every n-th layer full; or a
// string like "LLLG" repeated over the layers), as Exaone4Config derives them.
absl::Status ParseExaoneLayerTypes(const Json& j, ModelConfig& c) {
  const int64_t n = c.num_hidden_layers;
  if (j.contains("layer_types") && !j["layer_types"].is_null()) {
    const Json& types = j["layer_types"];
    if (!types.is_array() || static_cast<int64_t>(types.size()) != n) {
      return absl::InvalidArgumentError(
          absl::StrCat("layer_types must be a list of num_hidden_layers (", n, ") strings, got ",
                       jf::Show(types)));
    }
    for (int64_t i = 0; i < n; ++i) {
      const Json& t = types[static_cast<size_t>(i)];
      if (!t.is_string() || (t != kFullAttention && t != kSlidingAttention)) {
        return absl::InvalidArgumentError(absl::StrCat("layer_types[", i, "] must be \"",
                                                       kFullAttention, "\" or \"",
                                                       kSlidingAttention, "\", got ", jf::Show(t)));
      }
      c.layer_types[static_cast<size_t>(i)] = t.get<std::string>();
    }
    if (!c.sliding_window.has_value() &&
        std::find(c.layer_types.begin(), c.layer_types.end(), kSlidingAttention) !=
            c.layer_types.end()) {
      return absl::InvalidArgumentError(
          "layer_types has sliding_attention layers but sliding_window is null");
    }
    return absl::OkStatus();
  }
  if (!c.sliding_window.has_value()) return absl::OkStatus();
  const Json pattern = j.value("sliding_window_pattern", Json(4));
  for (int64_t i = 0; i < n; ++i) {
    bool sliding;
    if (pattern.is_number_integer() && pattern.get<int64_t>() > 0) {
      sliding = (i + 1) % pattern.get<int64_t>() != 0;
    } else if (pattern.is_string() && !pattern.get<std::string>().empty() &&
               pattern.get<std::string>().find_first_not_of("LG") == std::string::npos) {
      const std::string p = pattern.get<std::string>();
      sliding = p[static_cast<size_t>(i) % p.size()] == 'L';
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "sliding_window_pattern must be a positive integer or a string of L and G, got ",
          jf::Show(pattern)));
    }
    c.layer_types[static_cast<size_t>(i)] = sliding ? kSlidingAttention : kFullAttention;
  }
  return absl::OkStatus();
}

absl::Status ParseLayerTypes(const Json& j, ModelConfig& c) {
  c.layer_types.assign(static_cast<size_t>(c.num_hidden_layers), kFullAttention);
  if (c.architecture == kMistral && c.sliding_window.has_value()) {
    c.layer_types.assign(c.layer_types.size(), kSlidingAttention);
  }
  // Llama and Phi ignore sliding_window, as their transformers models do.
  if (c.architecture == kExaone4) return ParseExaoneLayerTypes(j, c);
  return absl::OkStatus();
}

}  // namespace

int64_t ModelConfig::AttentionWindow(int64_t layer) const {
  if (!sliding_window.has_value() || layer < 0 ||
      layer >= static_cast<int64_t>(layer_types.size()) ||
      layer_types[static_cast<size_t>(layer)] != kSlidingAttention) {
    return 0;
  }
  return *sliding_window;
}

const std::vector<std::string>& SupportedArchitectures() {
  static const auto* kSupported =
      new std::vector<std::string>{kLlama, kMistral, kExaone4, kPhi};
  return *kSupported;
}

absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("config is not a valid JSON object");
  }
  ModelConfig c;
  RETURN_IF_ERROR(ParseArchitecture(j, c));
  RETURN_IF_ERROR(ParseSizes(j, c));
  RETURN_IF_ERROR(ParseRope(j, c));
  RETURN_IF_ERROR(ParseFlags(j, c));
  RETURN_IF_ERROR(ParseLayerTypes(j, c));
  return c;
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir) {
  const std::string path = absl::StrCat(model_dir, "/config.json");
  ASSIGN_OR_RETURN(std::string text, jf::ReadTextFile(path));
  auto config = ParseModelConfig(text);
  if (!config.ok()) {
    return absl::Status(config.status().code(),
                        absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

}  // namespace sllm::worker
