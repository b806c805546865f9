// config.json of a Hugging Face causal LM, as the options of the model to build.
// Defaults are those of the architecture's transformers config class (LlamaConfig,
// MistralConfig, Exaone4Config, PhiConfig); errors name the key and the value.
#ifndef SLLM_SERVICES_WORKER_LOADER_MODEL_CONFIG_H_
#define SLLM_SERVICES_WORKER_LOADER_MODEL_CONFIG_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace sllm::worker {

enum class RopeScalingType {
  kNone,    // rope_scaling null or rope_type "default".
  kLinear,  // Position interpolation: every inverse frequency divided by `factor`.
  kLlama3,  // Llama 3.1+: low frequencies / factor, high unchanged, smooth in between.
};

struct RopeScaling {
  RopeScalingType type = RopeScalingType::kNone;
  // linear and llama3: how much longer the context is than the one trained on.
  double factor = 1.0;
  // llama3 only: wavelengths longer than original_max_position_embeddings / low_freq_factor
  // are scaled by 1/factor, those shorter than original / high_freq_factor kept, the others
  // interpolated.
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

struct ModelConfig {
  // "architectures" as written, and the one built (the first; or derived from model_type when
  // the list is absent).
  std::vector<std::string> architectures;
  std::string architecture;
  std::string model_type;

  int64_t hidden_size = 0;         // Required.
  int64_t intermediate_size = 0;   // Required: the MLP's inner size.
  int64_t num_hidden_layers = 0;   // Required.
  int64_t num_attention_heads = 0; // Required: query heads.
  // Key/value heads (GQA when fewer than query heads); default num_attention_heads.
  int64_t num_key_value_heads = 0;
  // Per-head size; default hidden_size / num_attention_heads.
  int64_t head_dim = 0;
  int64_t vocab_size = 0;          // Required: embedding and lm_head rows.
  int64_t max_position_embeddings = 2048;

  double rms_norm_eps = 1e-6;
  double layer_norm_eps = 1e-5;  // Phi's LayerNorms.
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  // Share of each head's dims that are rotated (Phi: the first int(head_dim * factor)).
  double partial_rotary_factor = 1.0;

  // lm_head shares the input embedding matrix (no separate lm_head.weight needed).
  bool tie_word_embeddings = false;
  // Biases on q/k/v/o projections and on the MLP projections.
  bool attention_bias = false;
  bool mlp_bias = false;
  std::string hidden_act = "silu";
  // Attention window in tokens of the sliding layers (Mistral, EXAONE 4); nullopt: none.
  std::optional<int64_t> sliding_window;
  // Per layer "full_attention" or "sliding_attention" (num_hidden_layers entries): given by
  // the config (EXAONE 4's layer_types or sliding_window_pattern), every layer sliding for
  // Mistral with a window, every layer full otherwise.
  std::vector<std::string> layer_types;
  // Phi: LayerNorm on q and k per head.
  bool qk_layernorm = false;
  // Dtype the checkpoint was saved in ("bfloat16", "float32", ...); empty when not given.
  std::string torch_dtype;

  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // eos_token_id: an int or a list.

  // The attention window of `layer` in tokens: a query at position p sees keys in
  // (p - window, p]. 0 for full causal attention.
  int64_t AttentionWindow(int64_t layer) const;
};

// Architectures this worker can build.
const std::vector<std::string>& SupportedArchitectures();

// Parses config.json text. An architecture outside SupportedArchitectures() is UNIMPLEMENTED
// naming it; a malformed or inconsistent value is INVALID_ARGUMENT naming the key.
absl::StatusOr<ModelConfig> ParseModelConfig(std::string_view json_text);
// Reads `model_dir`/config.json; errors are prefixed with the path.
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& model_dir);

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_LOADER_MODEL_CONFIG_H_
