#include "services/tokenizer/pre_tokenizer.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/byte_level.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

// Replaces every piece by the pieces fn() produces from it.
absl::Status ForEachPiece(
    std::vector<NormalizedString>& pieces,
    const std::function<absl::Status(NormalizedString&, std::vector<NormalizedString>&)>& fn) {
  std::vector<NormalizedString> out;
  out.reserve(pieces.size() * 2);
  for (auto& piece : pieces) RETURN_IF_ERROR(fn(piece, out));
  pieces = std::move(out);
  return absl::OkStatus();
}

// Splits around characters for which `pred` holds (tokenizers' char-predicate pattern): each
// matching character is its own match; maximal runs of others are non-matches.
void CharSplits(std::string_view text, const std::function<bool(char32_t)>& pred,
                std::vector<PatternSplit>& out) {
  out.clear();
  size_t last = 0, pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const char32_t cp = DecodeUtf8(text, pos);
    if (pred(cp)) {
      if (last < start) out.push_back({last, start, false});
      out.push_back({start, pos, true});
      last = pos;
    }
  }
  if (last < text.size()) out.push_back({last, text.size(), false});
  if (text.empty()) out.push_back({0, 0, false});
}

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  absl::Status PreTokenize(std::vector<NormalizedString>& pieces) const override {
    std::vector<PatternSplit> splits;
    return ForEachPiece(pieces, [&](NormalizedString& p, std::vector<NormalizedString>& out) {
      RETURN_IF_ERROR(pattern_.FindMatches(p.text(), splits));
      SplitByBehavior(p, splits, behavior_, invert_, out);
      return absl::OkStatus();
    });
  }

 private:
  Pattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class CharPredicatePreTokenizer : public PreTokenizer {
 public:
  CharPredicatePreTokenizer(std::function<bool(char32_t)> pred, SplitBehavior behavior)
      : pred_(std::move(pred)), behavior_(behavior) {}
  absl::Status PreTokenize(std::vector<NormalizedString>& pieces) const override {
    std::vector<PatternSplit> splits;
    return ForEachPiece(pieces, [&](NormalizedString& p, std::vector<NormalizedString>& out) {
      CharSplits(p.text(), pred_, splits);
      SplitByBehavior(p, splits, behavior_, false, out);
      return absl::OkStatus();
    });
  }

 private:
  std::function<bool(char32_t)> pred_;
  SplitBehavior behavior_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space) {
    if (use_regex) {
      regex_ = Pattern::FromJson(Json{{"Regex", std::string(kGpt2Pattern)}}).value();
    }
  }
  absl::Status PreTokenize(std::vector<NormalizedString>& pieces) const override {
    std::vector<PatternSplit> splits;
    const ByteLevelTable& table = ByteLevelTable::Get();
    return ForEachPiece(pieces, [&](NormalizedString& p, std::vector<NormalizedString>& out) {
      if (add_prefix_space_ && !p.empty() && p.text()[0] != ' ') {
        NormalizedString::Builder b(p);
        b.Append(" ", p.CharRange(0, Utf8SeqLen(p.text()[0])));
        b.AppendSource(0, p.text().size());
        b.Finish(p);
      }
      const size_t first = out.size();
      if (regex_) {
        RETURN_IF_ERROR(regex_->FindMatches(p.text(), splits));
        SplitByBehavior(p, splits, SplitBehavior::kIsolated, false, out);
      } else if (!p.empty()) {
        out.push_back(std::move(p));
      }
      // Map every byte to its printable character, aligned like the byte it replaces.
      for (size_t i = first; i < out.size(); ++i) {
        NormalizedString& piece = out[i];
        NormalizedString::Builder b(piece);
        const std::string& t = piece.text();
        for (size_t k = 0; k < t.size(); ++k) {
          b.Append(table.Encode(static_cast<uint8_t>(t[k])), piece.OriginalRange(k, k + 1));
        }
        b.Finish(piece);
      }
      return absl::OkStatus();
    });
  }

 private:
  bool add_prefix_space_;
  std::optional<Pattern> regex_;
};

enum class PrependScheme { kAlways, kFirst, kNever };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  absl::Status PreTokenize(std::vector<NormalizedString>& pieces) const override {
    std::vector<PatternSplit> splits;
    const Pattern space = Pattern::Literal(" ");
    const Pattern repl = Pattern::Literal(replacement_);
    return ForEachPiece(pieces, [&](NormalizedString& p, std::vector<NormalizedString>& out) {
      // Replace spaces by the replacement character.
      NormalizedString::Builder b(p);
      size_t prev = 0;
      const std::string& t = p.text();
      const bool prepend = (scheme_ == PrependScheme::kAlways ||
                            (scheme_ == PrependScheme::kFirst && p.at_origin())) &&
                           t.compare(0, replacement_.size(), replacement_) != 0 &&
                           (t.empty() || t[0] != ' ');
      if (prepend && !p.empty()) b.Append(replacement_, p.CharRange(0, Utf8SeqLen(t[0])));
      RETURN_IF_ERROR(space.ForEachMatch(t, [&](size_t s, size_t e) {
        b.AppendSource(prev, s);
        b.Append(replacement_, p.OriginalRange(s, e));
        prev = e;
      }));
      b.AppendSource(prev, t.size());
      b.Finish(p);
      if (!split_) {
        if (!p.empty()) out.push_back(std::move(p));
        return absl::OkStatus();
      }
      RETURN_IF_ERROR(repl.FindMatches(p.text(), splits));
      SplitByBehavior(p, splits, SplitBehavior::kMergedWithNext, false, out);
      return absl::OkStatus();
    });
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> items)
      : items_(std::move(items)) {}
  absl::Status PreTokenize(std::vector<NormalizedString>& pieces) const override {
    for (const auto& p : items_) RETURN_IF_ERROR(p->PreTokenize(pieces));
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> items_;
};

bool BoolOr(const Json& j, const char* key, bool dflt) {
  return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : dflt;
}

absl::StatusOr<SplitBehavior> BehaviorOr(const Json& j, SplitBehavior dflt) {
  if (!j.contains("behavior") || !j["behavior"].is_string()) return dflt;
  return SplitBehaviorFromString(j["behavior"].get<std::string>());
}

}  // namespace

absl::StatusOr<SplitBehavior> SplitBehaviorFromString(const std::string& name) {
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  return absl::InvalidArgumentError(absl::StrCat("unknown split behavior '", name, "'"));
}

void SplitByBehavior(const NormalizedString& piece, std::vector<PatternSplit>& splits,
                     SplitBehavior behavior, bool invert, std::vector<NormalizedString>& out) {
  if (invert) {
    for (auto& s : splits) s.is_match = !s.is_match;
  }
  std::vector<PatternSplit> merged;
  merged.reserve(splits.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      merged = splits;
      break;
    case SplitBehavior::kRemoved:
      for (const auto& s : splits) {
        if (!s.is_match) merged.push_back(s);
      }
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool prev_match = false;
      for (const auto& s : splits) {
        if (s.is_match && !prev_match && !merged.empty()) {
          merged.back().end = s.end;
        } else {
          merged.push_back(s);
        }
        prev_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      bool prev_match = false;
      for (auto it = splits.rbegin(); it != splits.rend(); ++it) {
        if (it->is_match && !prev_match && !merged.empty()) {
          merged.back().start = it->start;
        } else {
          merged.push_back(*it);
        }
        prev_match = it->is_match;
      }
      std::reverse(merged.begin(), merged.end());
      break;
    }
    case SplitBehavior::kContiguous: {
      bool prev_match = false;
      for (const auto& s : splits) {
        if (s.is_match == prev_match && !merged.empty()) {
          merged.back().end = s.end;
        } else {
          merged.push_back(s);
        }
        prev_match = s.is_match;
      }
      break;
    }
  }
  for (const auto& s : merged) {
    if (s.end > s.start) out.push_back(piece.Slice(s.start, s.end));
  }
}

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizerFromJson(const Json& j) {
  if (j.is_null()) return std::unique_ptr<PreTokenizer>();
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("pre_tokenizer without a type: ", j.dump()));
  }
  const std::string type = j["type"].get<std::string>();
  if (type == "Split") {
    if (!j.contains("pattern")) return absl::InvalidArgumentError("Split without pattern");
    ASSIGN_OR_RETURN(Pattern p, Pattern::FromJson(j["pattern"]));
    ASSIGN_OR_RETURN(SplitBehavior b, BehaviorOr(j, SplitBehavior::kRemoved));
    return std::make_unique<SplitPreTokenizer>(std::move(p), b, BoolOr(j, "invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(BoolOr(j, "add_prefix_space", true),
                                                   BoolOr(j, "use_regex", true));
  }
  if (type == "Metaspace") {
    std::string repl = "\xE2\x96\x81";
    if (j.contains("replacement") && j["replacement"].is_string()) {
      repl = j["replacement"].get<std::string>();
    }
    PrependScheme scheme = BoolOr(j, "add_prefix_space", true) ? PrependScheme::kAlways
                                                               : PrependScheme::kNever;
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      const std::string s = j["prepend_scheme"].get<std::string>();
      if (s == "always") scheme = PrependScheme::kAlways;
      else if (s == "first") scheme = PrependScheme::kFirst;
      else if (s == "never") scheme = PrependScheme::kNever;
      else return absl::InvalidArgumentError(absl::StrCat("unknown prepend_scheme '", s, "'"));
    }
    return std::make_unique<MetaspacePreTokenizer>(repl, scheme, BoolOr(j, "split", true));
  }
  if (type == "Digits") {
    return std::make_unique<CharPredicatePreTokenizer>(
        IsNumeric, BoolOr(j, "individual_digits", false) ? SplitBehavior::kIsolated
                                                         : SplitBehavior::kContiguous);
  }
  if (type == "Punctuation") {
    ASSIGN_OR_RETURN(SplitBehavior b, BehaviorOr(j, SplitBehavior::kIsolated));
    return std::make_unique<CharPredicatePreTokenizer>(IsPunctuation, b);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharPredicatePreTokenizer>(IsWhitespace, SplitBehavior::kRemoved);
  }
  if (type == "CharDelimiterSplit") {
    if (!j.contains("delimiter") || !j["delimiter"].is_string()) {
      return absl::InvalidArgumentError("CharDelimiterSplit without delimiter");
    }
    const std::string d = j["delimiter"].get<std::string>();
    size_t pos = 0;
    const char32_t delim = d.empty() ? 0 : DecodeUtf8(d, pos);
    return std::make_unique<CharPredicatePreTokenizer>(
        [delim](char32_t cp) { return cp == delim; }, SplitBehavior::kRemoved);
  }
  if (type == "Whitespace") {
    ASSIGN_OR_RETURN(Pattern p, Pattern::FromJson(Json{{"Regex", R"(\w+|[^\w\s]+)"}}));
    return std::make_unique<SplitPreTokenizer>(std::move(p), SplitBehavior::kRemoved, true);
  }
  if (type == "BertPreTokenizer") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    items.push_back(
        std::make_unique<CharPredicatePreTokenizer>(IsWhitespace, SplitBehavior::kRemoved));
    items.push_back(
        std::make_unique<CharPredicatePreTokenizer>(IsPunctuation, SplitBehavior::kIsolated));
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<PreTokenizer>> items;
    if (j.contains("pretokenizers") && j["pretokenizers"].is_array()) {
      for (const auto& item : j["pretokenizers"]) {
        ASSIGN_OR_RETURN(auto p, PreTokenizerFromJson(item));
        if (p) items.push_back(std::move(p));
      }
    }
    return std::make_unique<SequencePreTokenizer>(std::move(items));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported pre_tokenizer type '", type, "'"));
}

}  // namespace sllm::tokenizer
