#include "services/tokenizer/model_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

// Reads an optional JSON file: null JSON when the file does not exist.
absl::StatusOr<Json> ReadJsonFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Json();
  std::stringstream ss;
  ss << in.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path.string(), " is not valid JSON"));
  }
  return j;
}

// A special token entry is a string or an AddedToken object {"content": ...}.
std::optional<std::string> TokenText(const Json& cfg, const char* key) {
  if (!cfg.is_object() || !cfg.contains(key)) return std::nullopt;
  const Json& v = cfg[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    return v["content"].get<std::string>();
  }
  return std::nullopt;
}

void AddIds(const Json& v, std::vector<uint32_t>& out) {
  if (v.is_number_integer() && v.get<int64_t>() >= 0) out.push_back(v.get<uint32_t>());
  if (v.is_array()) {
    for (const auto& e : v) {
      if (e.is_number_integer() && e.get<int64_t>() >= 0) out.push_back(e.get<uint32_t>());
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ModelTokenizer>> ModelTokenizer::Load(const std::string& name,
                                                                     const std::string& dir) {
  namespace fs = std::filesystem;
  auto m = std::make_unique<ModelTokenizer>();
  m->name_ = name;
  m->dir_ = dir;
  const fs::path root(dir);
  if (!fs::exists(root / "tokenizer.json")) {
    return absl::NotFoundError(absl::StrCat("model '", name, "': no tokenizer.json in ", dir));
  }
  ASSIGN_OR_RETURN(m->tokenizer_, Tokenizer::FromFile((root / "tokenizer.json").string()));
  ASSIGN_OR_RETURN(Json cfg, ReadJsonFile(root / "tokenizer_config.json"));
  ASSIGN_OR_RETURN(Json gen, ReadJsonFile(root / "generation_config.json"));
  const Tokenizer& tok = *m->tokenizer_;
  TokenizerConfig& c = m->config_;

  auto resolve = [&](const char* key) -> std::optional<NamedToken> {
    auto text = TokenText(cfg, key);
    if (!text) return std::nullopt;
    auto id = tok.TokenToId(*text);
    if (!id) return std::nullopt;
    return NamedToken{*text, *id};
  };
  c.bos = resolve("bos_token");
  c.eos = resolve("eos_token");
  c.pad = resolve("pad_token");
  c.unk = resolve("unk_token");
  try {
    if (cfg.is_object()) {
      for (const auto& [key, value] : cfg.items()) {
        if (key.size() > 6 && key.compare(key.size() - 6, 6, "_token") == 0) {
          if (auto text = TokenText(cfg, key.c_str())) c.template_tokens.emplace_back(key, *text);
        }
      }
      if (cfg.contains("additional_special_tokens") &&
          cfg["additional_special_tokens"].is_array()) {
        for (const Json& t : cfg["additional_special_tokens"]) {
          if (t.is_string()) c.additional_special_tokens.push_back(t.get<std::string>());
          if (t.is_object() && t.contains("content") && t["content"].is_string()) {
            c.additional_special_tokens.push_back(t["content"].get<std::string>());
          }
        }
      }
      c.add_bos_token = cfg.value("add_bos_token", false);
      c.add_eos_token = cfg.value("add_eos_token", false);
      if (cfg.contains("model_max_length") && cfg["model_max_length"].is_number()) {
        const double v = cfg["model_max_length"].get<double>();
        // transformers writes 1e30 for "no limit".
        if (v > 0 && v < 1e15) c.model_max_length = static_cast<uint64_t>(v);
      }
      if (cfg.contains("chat_template")) {
        const Json& t = cfg["chat_template"];
        if (t.is_string()) {
          c.chat_template = t.get<std::string>();
        } else if (t.is_array()) {
          for (const auto& named : t) {
            if (named.value("name", "") == "default" && named.contains("template")) {
              c.chat_template = named["template"].get<std::string>();
            }
          }
        }
      }
    }
  } catch (const Json::exception& e) {
    // A value of an unexpected type ("add_bos_token": "yes", ...): named, never a crash.
    return absl::InvalidArgumentError(absl::StrCat((root / "tokenizer_config.json").string(),
                                                   " has a value of the wrong type: ", e.what()));
  }
  if (c.eos) c.eos_token_ids.push_back(c.eos->id);
  if (gen.is_object() && gen.contains("eos_token_id")) AddIds(gen["eos_token_id"], c.eos_token_ids);
  std::sort(c.eos_token_ids.begin(), c.eos_token_ids.end());
  c.eos_token_ids.erase(std::unique(c.eos_token_ids.begin(), c.eos_token_ids.end()),
                        c.eos_token_ids.end());
  return m;
}

}  // namespace sllm::tokenizer
