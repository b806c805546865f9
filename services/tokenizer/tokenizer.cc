#include "services/tokenizer/tokenizer.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

absl::StatusOr<std::vector<AddedToken>> ParseAddedTokens(const Json& j) {
  std::vector<AddedToken> out;
  if (!j.contains("added_tokens") || j["added_tokens"].is_null()) return out;
  if (!j["added_tokens"].is_array()) return absl::InvalidArgumentError("added_tokens is not a list");
  for (const auto& t : j["added_tokens"]) {
    if (!t.contains("id") || !t["id"].is_number_integer() || t["id"].get<int64_t>() < 0 || !t.contains("content") ||
        !t["content"].is_string()) {
      return absl::InvalidArgumentError("added token without id/content: " + t.dump());
    }
    if (t["id"].get<int64_t>() > kMaxTokenId) {
      return absl::InvalidArgumentError(absl::StrCat("added token '", t["content"].dump(),
                                                     "' has id ", t["id"].get<int64_t>(),
                                                     ", beyond the largest supported id ",
                                                     kMaxTokenId));
    }
    AddedToken a;
    a.id = t["id"].get<uint32_t>();
    a.content = t["content"].get<std::string>();
    a.single_word = t.value("single_word", false);
    a.lstrip = t.value("lstrip", false);
    a.rstrip = t.value("rstrip", false);
    a.special = t.value("special", false);
    a.normalized = t.value("normalized", !a.special);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open tokenizer file ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  auto tok = FromJson(ss.str());
  if (!tok.ok()) {
    return absl::Status(tok.status().code(), absl::StrCat(path, ": ", tok.status().message()));
  }
  return tok;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromJson(std::string_view json_text) {
  Json j = Json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError("tokenizer.json is not a valid JSON object");
  }
  // The checks below cover the shapes tokenizer.json files have; a value of another type
  // (a number where a string belongs, ...) is a named error too, never a crash.
  try {
    std::unique_ptr<Tokenizer> t(new Tokenizer());
    if (!j.contains("model") || !j["model"].is_object()) {
      return absl::InvalidArgumentError("tokenizer.json has no model");
    }
    const Json& model = j["model"];
    const std::string type = model.value("type", model.contains("merges") ? "BPE" : "");
    if (type != "BPE") {
      return absl::UnimplementedError(absl::StrCat("unsupported tokenizer model type '", type,
                                                   "' (supported: BPE)"));
    }
    ASSIGN_OR_RETURN(t->model_, BpeModel::FromJson(model));
    auto component = [&](const char* key) { return j.contains(key) ? j[key] : Json(); };
    ASSIGN_OR_RETURN(t->normalizer_, NormalizerFromJson(component("normalizer")));
    ASSIGN_OR_RETURN(t->pre_tokenizer_, PreTokenizerFromJson(component("pre_tokenizer")));
    ASSIGN_OR_RETURN(t->post_processor_, PostProcessorFromJson(component("post_processor")));
    ASSIGN_OR_RETURN(t->decoder_, DecoderFromJson(component("decoder")));
    ASSIGN_OR_RETURN(std::vector<AddedToken> added, ParseAddedTokens(j));
    t->vocab_size_ = t->model_->id_end();
    for (const AddedToken& a : added) {
      if (a.special) t->special_ids_.insert(a.id);
      t->vocab_size_ = std::max(t->vocab_size_, a.id + 1);
    }
    ASSIGN_OR_RETURN(t->added_, AddedVocabulary::Build(std::move(added), t->normalizer_.get()));
    t->byte_tokens_.assign(t->vocab_size_, false);
    for (uint32_t id = 0; id < t->vocab_size_; ++id) {
      const std::string* s = t->IdToToken(id);
      t->byte_tokens_[id] = s != nullptr && ParseByteToken(*s) >= 0;
    }
    return t;
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer.json has a value of the wrong type or range: ", e.what()));
  }
}

const std::string* Tokenizer::IdToToken(uint32_t id) const {
  if (const AddedToken* a = added_.FindById(id)) return &a->content;
  return model_->IdToToken(id);
}

std::optional<uint32_t> Tokenizer::TokenToId(std::string_view token) const {
  if (auto id = added_.FindByContent(token)) return id;
  return model_->TokenToId(token);
}

bool Tokenizer::IsByteToken(uint32_t id) const {
  return id < byte_tokens_.size() && byte_tokens_[id];
}

absl::Status Tokenizer::TokenizeSegment(const NormalizedString& segment, bool track,
                                        Encoding& out) const {
  thread_local std::vector<NormalizedString> pieces;
  thread_local std::vector<PieceToken> tokens;
  pieces.clear();
  pieces.push_back(segment);
  if (pre_tokenizer_) RETURN_IF_ERROR(pre_tokenizer_->PreTokenize(pieces));
  for (const NormalizedString& piece : pieces) {
    tokens.clear();
    model_->Tokenize(piece.text(), tokens);
    size_t pos = 0;
    for (const PieceToken& t : tokens) {
      out.ids.push_back(t.id);
      if (track) out.offsets.push_back(piece.OriginalRange(pos, pos + t.len));
      pos += t.len;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Encoding> Tokenizer::Encode(std::string_view text,
                                           const EncodeOptions& options) const {
  // Every stage below walks UTF-8 sequences by their lead byte; a truncated one would send it
  // past the end of the text.
  RETURN_IF_ERROR(ValidateUtf8(text, "text"));
  const bool track = options.return_offsets;
  thread_local std::vector<Segment> segments;
  RETURN_IF_ERROR(added_.Extract(text, normalizer_.get(), track, segments));
  Encoding enc;
  enc.ids.reserve(text.size() / 3 + 4);
  for (const Segment& seg : segments) {
    if (seg.token_id) {
      enc.ids.push_back(*seg.token_id);
      if (track) enc.offsets.push_back(seg.text.OriginalRange(0, seg.text.text().size()));
      continue;
    }
    RETURN_IF_ERROR(TokenizeSegment(seg.text, track, enc));
  }
  if (options.add_special_tokens && post_processor_) {
    post_processor_->Process(enc.ids, track ? &enc.offsets : nullptr);
  }
  return enc;
}

std::string Tokenizer::DecodeTokens(std::vector<std::string> tokens, bool continuation) const {
  if (!decoder_) {
    std::string out;
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i > 0 || continuation) out += ' ';
      out += tokens[i];
    }
    return out;
  }
  DecodeState state;
  state.first_is_start = !continuation;
  decoder_->DecodeChain(tokens, state);
  std::string out;
  for (const auto& t : tokens) out += t;
  return out;
}

bool Tokenizer::SupportsContinuation() const {
  return !decoder_ || decoder_->SupportsContinuation(false);
}

absl::StatusOr<std::string> Tokenizer::Decode(absl::Span<const uint32_t> ids,
                                              bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (uint32_t id : ids) {
    const std::string* s = IdToToken(id);
    if (s == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", id,
                                                     " is outside the vocabulary (size ",
                                                     vocab_size_, ")"));
    }
    if (skip_special_tokens && IsSpecial(id)) continue;
    tokens.push_back(*s);
  }
  return DecodeTokens(std::move(tokens), /*continuation=*/false);
}

}  // namespace sllm::tokenizer
