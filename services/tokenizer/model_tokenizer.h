// Everything the tokenizer service knows about one model: its tokenizer.json, the special
// tokens and chat template of tokenizer_config.json, and the EOS ids of
// generation_config.json, loaded from a Hugging Face model folder.
#ifndef SLLM_SERVICES_TOKENIZER_MODEL_TOKENIZER_H_
#define SLLM_SERVICES_TOKENIZER_MODEL_TOKENIZER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/tokenizer/tokenizer.h"

namespace sllm::tokenizer {

// A named special token of tokenizer_config.json resolved to its id.
struct NamedToken {
  std::string text;
  uint32_t id = 0;
};

struct TokenizerConfig {
  std::optional<NamedToken> bos, eos, pad, unk;
  // Union of tokenizer_config.json's eos_token and generation_config.json's eos_token_id
  // (one id or a list), sorted and without duplicates.
  std::vector<uint32_t> eos_token_ids;
  // The Jinja chat template ("default" one when the config lists several), if any.
  std::optional<std::string> chat_template;
  // model_max_length; 0 when absent or effectively unbounded.
  uint64_t model_max_length = 0;
  bool add_bos_token = false;
  bool add_eos_token = false;
  // Every special token string by its tokenizer_config.json name (bos_token, eos_token, ...),
  // for chat templates.
  std::vector<std::pair<std::string, std::string>> template_tokens;
  // tokenizer_config.json's additional_special_tokens (strings or AddedToken objects), for chat
  // templates.
  std::vector<std::string> additional_special_tokens;
};

class ModelTokenizer {
 public:
  // Loads `dir`/tokenizer.json (required), tokenizer_config.json and generation_config.json
  // (optional). Errors name the file.
  static absl::StatusOr<std::unique_ptr<ModelTokenizer>> Load(const std::string& name,
                                                               const std::string& dir);

  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  const TokenizerConfig& config() const { return config_; }

 private:
  std::string name_;
  std::string dir_;
  std::unique_ptr<Tokenizer> tokenizer_;
  TokenizerConfig config_;
};

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_MODEL_TOKENIZER_H_
