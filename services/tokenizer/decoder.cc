#include "services/tokenizer/decoder.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/byte_level.h"
#include "services/tokenizer/pattern.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

class ByteLevelDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const override {
    const ByteLevelTable& table = ByteLevelTable::Get();
    std::string bytes;
    for (const std::string& t : tokens) {
      const size_t mark = bytes.size();
      size_t pos = 0;
      bool all = true;
      while (pos < t.size()) {
        const int b = table.Decode(DecodeUtf8(t, pos));
        if (b < 0) {
          all = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
      }
      if (!all) {  // A token with other characters contributes its own bytes.
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, Utf8Lossy(bytes));
    state.fused = true;
  }
  bool Fuses() const override { return true; }
};

class ByteFallbackDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string run;
    size_t run_len = 0;
    auto flush = [&] {
      if (run_len == 0) return;
      if (FindInvalidUtf8(run)) {
        std::string repl;
        for (size_t i = 0; i < run_len; ++i) repl += "\xEF\xBF\xBD";
        out.push_back(std::move(repl));
      } else {
        out.push_back(run);
      }
      run.clear();
      run_len = 0;
    };
    for (std::string& t : tokens) {
      const int b = ParseByteToken(t);
      if (b >= 0) {
        run.push_back(static_cast<char>(b));
        ++run_len;
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens = std::move(out);
  }
};

class FuseDecoder : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const override {
    std::string all;
    for (const auto& t : tokens) all += t;
    tokens.assign(1, std::move(all));
    state.fused = true;
  }
  bool Fuses() const override { return true; }
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(Pattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>& tokens, DecodeState&) const override {
    for (std::string& t : tokens) {
      std::string out;
      size_t prev = 0;
      // Literal patterns cannot fail; regex failures leave the token unchanged.
      const absl::Status st = pattern_.ForEachMatch(t, [&](size_t s, size_t e) {
        out.append(t, prev, s - prev);
        out += content_;
        prev = e;
      });
      if (!st.ok() || (prev == 0 && out.empty())) continue;
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }
  // A match could span the cut once tokens are joined.
  bool SupportsContinuation(bool fused_before) const override { return !fused_before; }

 private:
  Pattern pattern_;
  std::string content_;
};

class StripDecoder : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      // After a join, token 0 of a continuation is the middle of the text: keep its start.
      const bool strip_start = !(i == 0 && state.fused && !state.first_is_start);
      size_t begin = 0;
      if (strip_start) {
        for (size_t k = 0; k < start_ && t.compare(begin, content_.size(), content_) == 0 &&
                           !content_.empty();
             ++k) {
          begin += content_.size();
        }
      }
      size_t end = t.size();
      for (size_t k = 0; k < stop_ && end >= begin + content_.size() && !content_.empty() &&
                         t.compare(end - content_.size(), content_.size(), content_) == 0;
           ++k) {
        end -= content_.size();
      }
      t = t.substr(begin, end - begin);
    }
  }
  bool SupportsContinuation(bool) const override { return stop_ == 0; }

 private:
  std::string content_;
  size_t start_, stop_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool prepend)
      : replacement_(std::move(replacement)), prepend_(prepend) {}
  void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      // As tokenizers: in the text's first token every replacement character is dropped
      // (not only a leading one); elsewhere each becomes a space.
      const bool drop = i == 0 && state.first_is_start && prepend_;
      tokens[i] = absl::StrReplaceAll(tokens[i], {{replacement_, drop ? "" : " "}});
    }
  }
  // After a join, the first-token rule covers the whole text: it cannot be split.
  bool SupportsContinuation(bool fused_before) const override { return !fused_before; }

 private:
  std::string replacement_;
  bool prepend_;
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup)
      : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string& t = tokens[i];
      if (i > 0 || !state.first_is_start) {
        if (t.compare(0, prefix_.size(), prefix_) == 0) {
          t.erase(0, prefix_.size());
        } else {
          t.insert(0, " ");
        }
      }
      if (cleanup_) {
        t = absl::StrReplaceAll(t, {{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","},
                                    {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"},
                                    {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"},
                                    {" 're", "'re"}});
      }
    }
  }

 private:
  std::string prefix_;
  bool cleanup_;
};

class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void DecodeChain(std::vector<std::string>& tokens, DecodeState&) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] = absl::StrReplaceAll(tokens[i], {{suffix_, i + 1 == tokens.size() ? "" : " "}});
    }
  }
  // The last token is special: decoding cannot be split.
  bool SupportsContinuation(bool) const override { return false; }

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> items)
      : items_(std::move(items)) {}
  void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const override {
    for (const auto& d : items_) d->DecodeChain(tokens, state);
  }
  bool SupportsContinuation(bool fused_before) const override {
    bool fused = fused_before;
    for (const auto& d : items_) {
      if (!d->SupportsContinuation(fused)) return false;
      fused = fused || d->Fuses();
    }
    return true;
  }
  bool Fuses() const override {
    for (const auto& d : items_) {
      if (d->Fuses()) return true;
    }
    return false;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> items_;
};

std::string StringOr(const Json& j, const char* key, std::string dflt) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : dflt;
}

}  // namespace

int ParseByteToken(const std::string& t) {
  if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
  int v = 0;
  for (int i = 3; i < 5; ++i) {
    const char c = t[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= c - '0';
    else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
    else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
    else return -1;
  }
  return v;
}

absl::StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const Json& j) {
  if (j.is_null()) return std::unique_ptr<Decoder>();
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("decoder without a type: ", j.dump()));
  }
  const std::string type = j["type"].get<std::string>();
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Replace") {
    if (!j.contains("pattern")) return absl::InvalidArgumentError("Replace decoder without pattern");
    ASSIGN_OR_RETURN(Pattern p, Pattern::FromJson(j["pattern"]));
    return std::make_unique<ReplaceDecoder>(std::move(p), StringOr(j, "content", ""));
  }
  if (type == "Strip") {
    return std::make_unique<StripDecoder>(StringOr(j, "content", " "), j.value("start", 0),
                                          j.value("stop", 0));
  }
  if (type == "Metaspace") {
    bool prepend = j.value("add_prefix_space", true);
    if (j.contains("prepend_scheme") && j["prepend_scheme"].is_string()) {
      prepend = j["prepend_scheme"].get<std::string>() != "never";
    }
    return std::make_unique<MetaspaceDecoder>(StringOr(j, "replacement", "\xE2\x96\x81"), prepend);
  }
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(StringOr(j, "prefix", "##"),
                                              j.value("cleanup", true));
  }
  if (type == "BPEDecoder") return std::make_unique<BpeSuffixDecoder>(StringOr(j, "suffix", "</w>"));
  if (type == "Sequence") {
    std::vector<std::unique_ptr<Decoder>> items;
    if (j.contains("decoders") && j["decoders"].is_array()) {
      for (const auto& item : j["decoders"]) {
        ASSIGN_OR_RETURN(auto d, DecoderFromJson(item));
        if (d) items.push_back(std::move(d));
      }
    }
    return std::make_unique<SequenceDecoder>(std::move(items));
  }
  return absl::UnimplementedError(absl::StrCat("unsupported decoder type '", type, "'"));
}

}  // namespace sllm::tokenizer
