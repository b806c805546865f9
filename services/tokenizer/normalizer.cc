#include "services/tokenizer/normalizer.h"

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/pattern.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

// Rewrites `s` one character at a time: fn(cp, out) appends the replacement code points.
void MapChars(NormalizedString& s, const std::function<void(char32_t, std::u32string&)>& fn) {
  const std::string& text = s.text();
  NormalizedString::Builder b(s);
  std::u32string repl;
  std::string utf8;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const char32_t cp = DecodeUtf8(text, pos);
    repl.clear();
    fn(cp, repl);
    if (repl.size() == 1 && repl[0] == cp) {
      b.AppendSource(start, pos);
      continue;
    }
    utf8.clear();
    for (char32_t r : repl) AppendUtf8(r, utf8);
    b.Append(utf8, s.CharRange(start, pos - start));
  }
  b.Finish(s);
}

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalizationForm form) : form_(form) {}
  absl::Status Normalize(NormalizedString& s) const override {
    if (IsNormalized(s.text(), form_)) return absl::OkStatus();
    const std::string& text = s.text();
    NormalizedString::Builder b(s);
    if (!s.tracked()) {
      b.Append(tokenizer::Normalize(text, form_), {0, 0});
      b.Finish(s);
      return absl::OkStatus();
    }
    // Normalize segment by segment between normalization boundaries, aligning each
    // segment's output to the segment's original range.
    size_t seg = 0, pos = 0;
    auto flush = [&](size_t end) {
      if (end > seg) {
        std::string_view piece(text.data() + seg, end - seg);
        b.Append(tokenizer::Normalize(piece, form_), s.OriginalRange(seg, end));
      }
      seg = end;
    };
    while (pos < text.size()) {
      const size_t start = pos;
      const char32_t cp = DecodeUtf8(text, pos);
      if (start > seg && HasNormalizationBoundaryBefore(cp, form_)) flush(start);
    }
    flush(text.size());
    b.Finish(s);
    return absl::OkStatus();
  }

 private:
  NormalizationForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  absl::Status Normalize(NormalizedString& s) const override {
    MapChars(s, [](char32_t cp, std::u32string& out) { out = ToLowerFull(cp); });
    return absl::OkStatus();
  }
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  absl::Status Normalize(NormalizedString& s) const override {
    const std::string& t = s.text();
    size_t begin = 0, end = t.size();
    if (left_) {
      while (begin < end) {
        size_t next = begin;
        if (!IsWhitespace(DecodeUtf8(t, next))) break;
        begin = next;
      }
    }
    if (right_) {
      while (end > begin) {
        size_t start = end - 1;
        while (start > begin && (static_cast<uint8_t>(t[start]) & 0xC0) == 0x80) --start;
        size_t p = start;
        if (!IsWhitespace(DecodeUtf8(t, p))) break;
        end = start;
      }
    }
    if (begin != 0 || end != t.size()) s = s.Slice(begin, end);
    return absl::OkStatus();
  }

 private:
  bool left_, right_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  absl::Status Normalize(NormalizedString& s) const override {
    const std::string& t = s.text();
    NormalizedString::Builder b(s);
    size_t prev = 0;
    bool any = false;
    RETURN_IF_ERROR(pattern_.ForEachMatch(t, [&](size_t start, size_t end) {
      any = true;
      b.AppendSource(prev, start);
      b.Append(content_, s.OriginalRange(start, end));
      prev = end;
    }));
    if (!any) return absl::OkStatus();
    b.AppendSource(prev, t.size());
    b.Finish(s);
    return absl::OkStatus();
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prepend) : prepend_(std::move(prepend)) {}
  absl::Status Normalize(NormalizedString& s) const override {
    if (s.empty()) return absl::OkStatus();
    NormalizedString::Builder b(s);
    b.Append(prepend_, s.CharRange(0, Utf8SeqLen(static_cast<uint8_t>(s.text()[0]))));
    b.AppendSource(0, s.text().size());
    b.Finish(s);
    return absl::OkStatus();
  }

 private:
  std::string prepend_;
};

// BERT's normalizer: clean text, pad CJK characters, strip accents, lowercase.
class BertNormalizer : public Normalizer {
 public:
  BertNormalizer(bool clean_text, bool chinese, bool strip_accents, bool lowercase)
      : clean_text_(clean_text), chinese_(chinese), strip_accents_(strip_accents),
        lowercase_(lowercase) {}
  absl::Status Normalize(NormalizedString& s) const override {
    if (clean_text_) {
      MapChars(s, [](char32_t cp, std::u32string& out) {
        if (cp == 0 || cp == 0xFFFD || (IsControl(cp) && cp != '\t' && cp != '\n' && cp != '\r'))
          return;
        out.push_back(IsWhitespace(cp) ? U' ' : cp);
      });
    }
    if (chinese_) {
      MapChars(s, [](char32_t cp, std::u32string& out) {
        if (IsCjk(cp)) {
          out = {U' ', cp, U' '};
        } else {
          out.push_back(cp);
        }
      });
    }
    if (strip_accents_) {
      RETURN_IF_ERROR(UnicodeNormalizer(NormalizationForm::kNfd).Normalize(s));
      MapChars(s, [](char32_t cp, std::u32string& out) {
        if (!IsMark(cp) || cp > 0x10FFFF) out.push_back(cp);
      });
    }
    if (lowercase_) RETURN_IF_ERROR(LowercaseNormalizer().Normalize(s));
    return absl::OkStatus();
  }

 private:
  bool clean_text_, chinese_, strip_accents_, lowercase_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> items)
      : items_(std::move(items)) {}
  absl::Status Normalize(NormalizedString& s) const override {
    for (const auto& n : items_) RETURN_IF_ERROR(n->Normalize(s));
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> items_;
};

bool BoolOr(const Json& j, const char* key, bool dflt) {
  return j.contains(key) && j[key].is_boolean() ? j[key].get<bool>() : dflt;
}

std::string StringOr(const Json& j, const char* key, std::string dflt) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : dflt;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> NormalizerFromJson(const Json& j) {
  if (j.is_null()) return std::unique_ptr<Normalizer>();
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("normalizer without a type: ", j.dump()));
  }
  const std::string type = j["type"].get<std::string>();
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalizationForm::kNfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(BoolOr(j, "strip_left", true),
                                             BoolOr(j, "strip_right", true));
  }
  if (type == "StripAccents") {
    std::vector<std::unique_ptr<Normalizer>> items;
    items.push_back(std::make_unique<BertNormalizer>(false, false, true, false));
    return std::make_unique<SequenceNormalizer>(std::move(items));
  }
  if (type == "Replace") {
    if (!j.contains("pattern")) return absl::InvalidArgumentError("Replace normalizer without pattern");
    ASSIGN_OR_RETURN(Pattern p, Pattern::FromJson(j["pattern"]));
    return std::make_unique<ReplaceNormalizer>(std::move(p), StringOr(j, "content", ""));
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(StringOr(j, "prepend", ""));
  if (type == "BertNormalizer") {
    const bool lowercase = BoolOr(j, "lowercase", true);
    // strip_accents: null follows lowercase.
    const bool strip = BoolOr(j, "strip_accents", lowercase);
    return std::make_unique<BertNormalizer>(BoolOr(j, "clean_text", true),
                                            BoolOr(j, "handle_chinese_chars", true), strip,
                                            lowercase);
  }
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Normalizer>> items;
    if (j.contains("normalizers") && j["normalizers"].is_array()) {
      for (const auto& item : j["normalizers"]) {
        ASSIGN_OR_RETURN(auto n, NormalizerFromJson(item));
        if (n) items.push_back(std::move(n));
      }
    }
    return std::make_unique<SequenceNormalizer>(std::move(items));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported normalizer type '", type, "'"));
}

}  // namespace sllm::tokenizer
