#include "bench/load/prompts.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"

namespace sllm::loadgen {
namespace {

using json = nlohmann::json;

// Output lengths come from their own stream, so that the prompts' source does not change them.
constexpr uint64_t kOutputStream = 0x9e3779b97f4a7c15ULL;

absl::StatusOr<std::vector<uint32_t>> EncodeText(const tokenizer::Tokenizer& tok,
                                                 const std::string& text) {
  ASSIGN_OR_RETURN(tokenizer::Encoding enc, tok.Encode(text, {}));
  return std::move(enc.ids);
}

}  // namespace

TextPromptMaker::TextPromptMaker(const tokenizer::Tokenizer& tokenizer) : tokenizer_(tokenizer) {
  for (uint32_t id = 0; id < tokenizer.vocab_size(); ++id) {
    if (tokenizer.IdToToken(id) != nullptr && !tokenizer.IsSpecial(id) &&
        !tokenizer.IsByteToken(id)) {
      ordinary_.push_back(id);
    }
  }
}

absl::StatusOr<Prompt> TextPromptMaker::Make(int64_t length, std::mt19937_64& rng) const {
  const tokenizer::Tokenizer& tok = tokenizer_;
  if (ordinary_.empty()) {
    return absl::FailedPreconditionError("the tokenizer has no ordinary tokens to build text from");
  }
  std::uniform_int_distribution<size_t> pick(0, ordinary_.size() - 1);
  // Decode random ids, re-encode, and add or drop ids until the encoding has `length` ids:
  // merges across token boundaries usually make it shorter, so this takes a few rounds.
  std::vector<uint32_t> drawn;
  Prompt best;
  for (int round = 0; round < 64; ++round) {
    ASSIGN_OR_RETURN(std::string text, tok.Decode(drawn, /*skip_special_tokens=*/true));
    ASSIGN_OR_RETURN(std::vector<uint32_t> ids, EncodeText(tok, text));
    const int64_t n = static_cast<int64_t>(ids.size());
    if (n <= length && n > static_cast<int64_t>(best.ids.size())) {
      best.text = text;
      best.ids = ids;
      best.has_text = true;
    }
    if (n == length) break;
    if (n < length) {
      // Short by a lot: add the difference; close: one at a time.
      const int64_t add = length - n > 8 ? length - n : 1;
      for (int64_t i = 0; i < add; ++i) drawn.push_back(ordinary_[pick(rng)]);
    } else {
      const int64_t drop = std::max<int64_t>(1, (n - length) / 2);
      drawn.resize(drawn.size() > static_cast<size_t>(drop) ? drawn.size() - drop : 0);
    }
  }
  best.has_text = true;
  return best;
}

namespace {

constexpr uint64_t kMaxOutputLen = 1 << 20;

// One line of a prompts file; `where` names the file and line in errors.
absl::StatusOr<Prompt> ParsePromptLine(const std::string& line, const std::string& where,
                                       const tokenizer::Tokenizer* tok) {
  const json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not a JSON object"));
  }
  Prompt p;
  const auto text = j.find("prompt");
  const auto ids = j.find("prompt_ids");
  if (text != j.end() && text->is_string()) {
    p.text = text->get<std::string>();
    p.has_text = true;
    if (tok != nullptr) {
      auto encoded = EncodeText(*tok, p.text);
      if (!encoded.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": ", encoded.status().message()));
      }
      p.ids = std::move(*encoded);
    }
  } else if (ids != j.end() && ids->is_array() && !ids->empty()) {
    for (const json& id : *ids) {
      if (!id.is_number_unsigned() || id.get<uint64_t>() > UINT32_MAX) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": prompt_ids must hold token ids, got ", id.dump()));
      }
      p.ids.push_back(id.get<uint32_t>());
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": needs \"prompt\" (a string) or \"prompt_ids\" (a non-empty id array)"));
  }
  if (auto out = j.find("output_len"); out != j.end()) {
    if (!out->is_number_unsigned() || out->get<uint64_t>() < 1 ||
        out->get<uint64_t>() > kMaxOutputLen) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": output_len must be in [1, ",
                                                     kMaxOutputLen, "], got ", out->dump()));
    }
    p.output_len = out->get<int64_t>();
  }
  return p;
}

}  // namespace

absl::StatusOr<std::vector<Prompt>> ReadPromptsFile(const std::string& path,
                                                    const tokenizer::Tokenizer* tok) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--prompts: cannot read ", path));
  std::vector<Prompt> prompts;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    const std::string where = absl::StrCat("--prompts ", path, " line ", number);
    ASSIGN_OR_RETURN(Prompt p, ParsePromptLine(line, where, tok));
    prompts.push_back(std::move(p));
  }
  if (prompts.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--prompts ", path, " has no prompts"));
  }
  return prompts;
}

absl::StatusOr<std::vector<Prompt>> MakePrompts(const PromptSource& source, size_t count) {
  std::vector<Prompt> prompts;
  std::mt19937_64 rng(source.seed);
  if (!source.file.empty()) {
    ASSIGN_OR_RETURN(prompts, ReadPromptsFile(source.file, source.tokenizer));
  } else if (source.tokenizer != nullptr) {
    const TextPromptMaker maker(*source.tokenizer);
    for (size_t i = 0; i < count; ++i) {
      ASSIGN_OR_RETURN(Prompt p, maker.Make(source.prompt_len.Sample(rng), rng));
      prompts.push_back(std::move(p));
    }
  } else {
    if (source.vocab_size == 0) {
      return absl::InvalidArgumentError(
          "synthetic prompts need the vocabulary size: the target did not report one (the "
          "OpenAI API does not); pass --vocab-size N or --tokenizer DIR");
    }
    std::uniform_int_distribution<uint32_t> id(0, source.vocab_size - 1);
    for (size_t i = 0; i < count; ++i) {
      Prompt p;
      p.ids.resize(static_cast<size_t>(source.prompt_len.Sample(rng)));
      for (uint32_t& x : p.ids) x = id(rng);
      prompts.push_back(std::move(p));
    }
  }
  std::mt19937_64 out_rng(source.seed ^ kOutputStream);
  for (Prompt& p : prompts) {
    if (p.output_len == 0) p.output_len = source.output_len.Sample(out_rng);
  }
  return prompts;
}

}  // namespace sllm::loadgen
