#include "services/tokenizer/jinja/lexer.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/tokenizer/jinja/text.h"

namespace sllm::tokenizer::jinja {
namespace {

using Range = std::pair<size_t, size_t>;  // [begin, end) byte range to delete.

// Removes the sorted, disjoint `cuts` from `in`.
Preprocessed Cut(const Preprocessed& in, const std::vector<Range>& cuts) {
  if (cuts.empty()) return in;
  Preprocessed out;
  out.text.reserve(in.text.size());
  out.origin.reserve(in.text.size());
  size_t pos = 0;
  auto keep = [&](size_t end) {
    out.text.append(in.text, pos, end - pos);
    out.origin.insert(out.origin.end(), in.origin.begin() + pos, in.origin.begin() + end);
  };
  for (const auto& [begin, end] : cuts) {
    keep(begin);
    pos = end;
  }
  keep(in.text.size());
  return out;
}

// Byte length of the JS whitespace code point at `s[pos]`, 0 if none.
size_t SpaceAt(absl::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  size_t next = pos;
  return IsJsSpace(NextCodePoint(s, &next)) ? next - pos : 0;
}

size_t SkipSpace(absl::string_view s, size_t pos) {
  while (size_t n = SpaceAt(s, pos)) pos += n;
  return pos;
}

// Start of the whitespace run that ends at `end`, not before `floor`.
size_t SpaceRunStart(absl::string_view s, size_t end, size_t floor) {
  while (end > floor) {
    size_t start = end - 1;
    while (start > floor && end - start < 4 &&
           (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
      --start;
    }
    if (SpaceAt(s, start) != end - start) break;
    end = start;
  }
  return end;
}

// lstrip_blocks: /^[ \t]*({[#%-])/gm -> "$1" (JS `^` also matches after \r, U+2028, U+2029).
std::vector<Range> LstripCuts(absl::string_view s) {
  std::vector<Range> cuts;
  auto strip_line = [&](size_t p) {
    size_t q = p;
    while (q < s.size() && (s[q] == ' ' || s[q] == '\t')) ++q;
    if (q > p && q + 1 < s.size() && s[q] == '{' &&
        (s[q + 1] == '#' || s[q + 1] == '%' || s[q + 1] == '-')) {
      cuts.emplace_back(p, q);
    }
  };
  strip_line(0);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || s[i] == '\r') {
      strip_line(i + 1);
    } else if (s.compare(i, 3, "\xE2\x80\xA8") == 0 || s.compare(i, 3, "\xE2\x80\xA9") == 0) {
      strip_line(i + 3);
      i += 2;
    }
  }
  return cuts;
}

// trim_blocks: /([#%-]})\n/g -> "$1".
std::vector<Range> TrimCuts(absl::string_view s) {
  std::vector<Range> cuts;
  for (size_t i = 0; i + 2 < s.size(); ++i) {
    if ((s[i] == '#' || s[i] == '%' || s[i] == '-') && s[i + 1] == '}' && s[i + 2] == '\n') {
      cuts.emplace_back(i + 2, i + 3);
      i += 2;
    }
  }
  return cuts;
}

// /(\s*){%(-?)\s*(?:end)?generation\s*(-?)%}(\s*)/g -> (lstrip ? "" : $1) + (rstrip ? "" : $4).
std::vector<Range> GenerationCuts(absl::string_view s) {
  std::vector<Range> cuts;
  size_t last_end = 0;
  for (size_t i = s.find("{%"); i != absl::string_view::npos; i = s.find("{%", i + 1)) {
    if (i < last_end) continue;
    size_t j = i + 2;
    const bool lstrip = j < s.size() && s[j] == '-';
    if (lstrip) ++j;
    j = SkipSpace(s, j);
    if (s.compare(j, 13, "endgeneration") == 0) {
      j += 13;
    } else if (s.compare(j, 10, "generation") == 0) {
      j += 10;
    } else {
      continue;
    }
    j = SkipSpace(s, j);
    const bool rstrip = j < s.size() && s[j] == '-';
    if (rstrip) ++j;
    if (s.compare(j, 2, "%}") != 0) continue;
    j += 2;
    const size_t after = SkipSpace(s, j);
    const size_t before = SpaceRunStart(s, i, last_end);
    if (lstrip && before < i) cuts.emplace_back(before, i);
    cuts.emplace_back(i, j);
    if (rstrip && after > j) cuts.emplace_back(j, after);
    last_end = after;
    i = after > 0 ? after - 1 : 0;
  }
  // Merge touching ranges so Cut sees them sorted and disjoint.
  std::vector<Range> merged;
  for (const Range& r : cuts) {
    if (!merged.empty() && merged.back().second == r.first) {
      merged.back().second = r.second;
    } else {
      merged.push_back(r);
    }
  }
  return merged;
}

class Lexer {
 public:
  Lexer(absl::string_view source, Preprocessed pre) : pre_(std::move(pre)), src_(pre_.text) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < source.size(); ++i) {
      if (source[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  absl::StatusOr<std::vector<Token>> Run();

 private:
  int LineAt(size_t pos) const {
    const size_t orig = pos < pre_.origin.size() ? pre_.origin[pos]
                        : pre_.origin.empty()    ? 0
                                                 : pre_.origin.back();
    return static_cast<int>(std::upper_bound(line_starts_.begin(), line_starts_.end(), orig) -
                            line_starts_.begin());
  }
  absl::Status Error(size_t pos, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat("template line ", LineAt(pos), ": ", message));
  }
  bool StartsWith(absl::string_view s) const { return src_.compare(pos_, s.size(), s) == 0; }
  char At(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  TokenType LastType() const { return tokens_.back().type; }
  void Push(TokenType type, std::string value, size_t at) {
    tokens_.push_back(Token{type, std::move(value), LineAt(at)});
  }
  void StripTrailingWhitespace() {
    if (!tokens_.empty() && LastType() == TokenType::kText) {
      std::string& text = tokens_.back().value;
      text.resize(text.size() - TrailingJsSpace(text));
      if (text.empty()) tokens_.pop_back();
    }
  }
  absl::Status ReadComment();
  absl::Status ReadString(char quote);
  // The reference's consumeWhile for digits: fails when the input ends inside the run.
  absl::StatusOr<std::string> ReadDigits();
  absl::Status ReadWhitespace();

  Preprocessed pre_;
  absl::string_view src_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int curly_depth_ = 0;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsWord(char c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

absl::Status Lexer::ReadComment() {
  const size_t start = pos_;
  pos_ += 2;
  const bool strip_before = At(pos_) == '-';
  if (strip_before) ++pos_;
  std::string comment;
  while (!(At(pos_) == '#' && At(pos_ + 1) == '}')) {
    if (pos_ + 2 >= src_.size()) return Error(start, "missing end of comment tag '#}'");
    comment += src_[pos_++];
  }
  const bool strip_after = !comment.empty() && comment.back() == '-';
  if (strip_after) comment.pop_back();
  if (strip_before) StripTrailingWhitespace();
  Push(TokenType::kComment, std::move(comment), start);
  pos_ += 2;
  if (strip_after) pos_ = SkipSpace(src_, pos_);
  return absl::OkStatus();
}

absl::Status Lexer::ReadString(char quote) {
  const size_t start = pos_;
  ++pos_;
  std::string value;
  char16_t pending_high = 0;  // A \uD800-\uDBFF escape waiting for its low half.
  auto flush_high = [&]() {
    if (pending_high != 0) AppendUtf8(0xFFFD, value);
    pending_high = 0;
  };
  while (true) {
    if (pos_ >= src_.size()) return Error(start, "unexpected end of input in a string literal");
    const char c = src_[pos_];
    if (c == quote) break;
    if (c != '\\') {
      flush_high();
      value += c;
      if (++pos_ >= src_.size()) return Error(start, "unexpected end of input in a string literal");
      continue;
    }
    if (++pos_ >= src_.size()) return Error(start, "unexpected end of input in a string literal");
    const char e = src_[pos_++];
    if (e == 'x' || e == 'u') {
      const size_t len = e == 'x' ? 2 : 4;
      const absl::string_view hex = src_.substr(std::min(pos_, src_.size()), len);
      uint32_t unit = 0;
      bool ok = hex.size() == len;
      for (char h : hex) {
        const int d = IsDigit(h) ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                                           : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
        ok = ok && d >= 0;
        unit = unit * 16 + (d < 0 ? 0 : d);
      }
      if (!ok) return Error(pos_, absl::StrCat("invalid hexadecimal escape sequence \\", std::string(1, e)));
      pos_ += len;
      if (unit >= 0xDC00 && unit <= 0xDFFF && pending_high != 0) {
        AppendUtf8(0x10000 + ((pending_high - 0xD800) << 10) + (unit - 0xDC00), value);
        pending_high = 0;
      } else {
        flush_high();
        if (unit >= 0xD800 && unit <= 0xDBFF) {
          pending_high = static_cast<char16_t>(unit);
        } else {
          AppendUtf8(unit, value);
        }
      }
      continue;
    }
    flush_high();
    switch (e) {
      case 'n': value += '\n'; break;
      case 't': value += '\t'; break;
      case 'r': value += '\r'; break;
      case 'b': value += '\b'; break;
      case 'f': value += '\f'; break;
      case 'v': value += '\v'; break;
      case '\'': value += '\''; break;
      case '"': value += '"'; break;
      case '\\': value += '\\'; break;
      default:
        return Error(pos_ - 1, absl::StrCat("unexpected escaped character '", std::string(1, e), "'"));
    }
  }
  flush_high();
  ++pos_;  // The closing quote.
  Push(TokenType::kStringLiteral, std::move(value), start);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Lexer::ReadDigits() {
  const size_t start = pos_;
  while (pos_ < src_.size() && IsDigit(src_[pos_])) ++pos_;
  if (pos_ > start && pos_ >= src_.size()) return Error(start, "unexpected end of input");
  return std::string(src_.substr(start, pos_ - start));
}

absl::Status Lexer::ReadWhitespace() {
  const size_t start = pos_;
  pos_ = SkipSpace(src_, pos_);
  if (pos_ > start && pos_ >= src_.size()) return Error(start, "unexpected end of input");
  return absl::OkStatus();
}

struct Symbol {
  absl::string_view text;
  TokenType type;
};

// The reference's ORDERED_MAPPING_TABLE: first match wins.
constexpr Symbol kSymbols[] = {
    {"{%", TokenType::kOpenStatement},   {"%}", TokenType::kCloseStatement},
    {"{{", TokenType::kOpenExpression},  {"}}", TokenType::kCloseExpression},
    {"(", TokenType::kOpenParen},        {")", TokenType::kCloseParen},
    {"{", TokenType::kOpenCurlyBracket}, {"}", TokenType::kCloseCurlyBracket},
    {"[", TokenType::kOpenSquareBracket}, {"]", TokenType::kCloseSquareBracket},
    {",", TokenType::kComma},            {".", TokenType::kDot},
    {":", TokenType::kColon},            {"|", TokenType::kPipe},
    {"<=", TokenType::kComparisonOperator}, {">=", TokenType::kComparisonOperator},
    {"==", TokenType::kComparisonOperator}, {"!=", TokenType::kComparisonOperator},
    {"<", TokenType::kComparisonOperator},  {">", TokenType::kComparisonOperator},
    {"+", TokenType::kAdditiveOperator},    {"-", TokenType::kAdditiveOperator},
    {"~", TokenType::kAdditiveOperator},    {"**", TokenType::kExponentiationOperator},
    {"*", TokenType::kMultiplicativeOperator}, {"//", TokenType::kMultiplicativeOperator},
    {"/", TokenType::kMultiplicativeOperator}, {"%", TokenType::kMultiplicativeOperator},
    {"=", TokenType::kEquals},
};

absl::StatusOr<std::vector<Token>> Lexer::Run() {
  while (pos_ < src_.size()) {
    if (tokens_.empty() || LastType() == TokenType::kCloseStatement ||
        LastType() == TokenType::kCloseExpression || LastType() == TokenType::kComment) {
      const size_t start = pos_;
      while (pos_ < src_.size() &&
             !(src_[pos_] == '{' && (At(pos_ + 1) == '%' || At(pos_ + 1) == '{' || At(pos_ + 1) == '#'))) {
        ++pos_;
      }
      if (pos_ > start) {
        Push(TokenType::kText, std::string(src_.substr(start, pos_ - start)), start);
        continue;
      }
    }
    if (StartsWith("{#")) {
      RETURN_IF_ERROR(ReadComment());
      continue;
    }
    if (StartsWith("{%-") || StartsWith("{{-")) {
      StripTrailingWhitespace();
      const bool statement = src_[pos_ + 1] == '%';
      Push(statement ? TokenType::kOpenStatement : TokenType::kOpenExpression,
           statement ? "{%" : "{{", pos_);
      if (!statement) curly_depth_ = 0;
      pos_ += 3;
      continue;
    }
    RETURN_IF_ERROR(ReadWhitespace());
    if (StartsWith("-%}") || StartsWith("-}}")) {
      const bool statement = src_[pos_ + 1] == '%';
      Push(statement ? TokenType::kCloseStatement : TokenType::kCloseExpression,
           statement ? "%}" : "}}", pos_);
      pos_ = SkipSpace(src_, pos_ + 3);
      continue;
    }
    if (pos_ >= src_.size()) break;
    const size_t start = pos_;
    const char c = src_[pos_];
    if (c == '-' || c == '+') {
      if (tokens_.empty() || LastType() == TokenType::kText) {
        return Error(pos_, absl::StrCat("unexpected character '", std::string(1, c), "'"));
      }
      const TokenType last = LastType();
      if (last != TokenType::kIdentifier && last != TokenType::kNumericLiteral &&
          last != TokenType::kStringLiteral && last != TokenType::kCloseParen &&
          last != TokenType::kCloseSquareBracket) {
        ++pos_;  // A unary sign, possibly part of a number literal.
        ASSIGN_OR_RETURN(std::string num, ReadDigits());
        if (!num.empty() && At(pos_) == '.' && IsDigit(At(pos_ + 1))) {
          ++pos_;
          ASSIGN_OR_RETURN(std::string frac, ReadDigits());
          num += "." + frac;
        }
        const bool number = !num.empty();
        Push(number ? TokenType::kNumericLiteral : TokenType::kUnaryOperator,
             std::string(1, c) + num, start);
        continue;
      }
    }
    bool matched = false;
    for (const Symbol& sym : kSymbols) {
      if (sym.type == TokenType::kCloseExpression && curly_depth_ > 0) continue;
      if (!StartsWith(sym.text)) continue;
      Push(sym.type, std::string(sym.text), start);
      if (sym.type == TokenType::kOpenExpression) curly_depth_ = 0;
      if (sym.type == TokenType::kOpenCurlyBracket) ++curly_depth_;
      if (sym.type == TokenType::kCloseCurlyBracket) --curly_depth_;
      pos_ += sym.text.size();
      matched = true;
      break;
    }
    if (matched) continue;
    if (c == '\'' || c == '"') {
      RETURN_IF_ERROR(ReadString(c));
      continue;
    }
    if (IsDigit(c)) {
      ASSIGN_OR_RETURN(std::string num, ReadDigits());
      if (LastType() != TokenType::kDot && At(pos_) == '.' && IsDigit(At(pos_ + 1))) {
        ++pos_;
        ASSIGN_OR_RETURN(std::string frac, ReadDigits());
        num += "." + frac;
      }
      Push(TokenType::kNumericLiteral, std::move(num), start);
      continue;
    }
    if (IsWord(c)) {
      while (pos_ < src_.size() && IsWord(src_[pos_])) ++pos_;
      if (pos_ >= src_.size()) return Error(start, "unexpected end of input");
      Push(TokenType::kIdentifier, std::string(src_.substr(start, pos_ - start)), start);
      continue;
    }
    size_t next = pos_;
    std::string ch;
    AppendUtf8(NextCodePoint(src_, &next), ch);
    return Error(pos_, absl::StrCat("unexpected character '", ch, "'"));
  }
  return std::move(tokens_);
}

}  // namespace

Preprocessed Preprocess(absl::string_view source) {
  Preprocessed p;
  p.text.assign(source.data(), source.size());
  if (!p.text.empty() && p.text.back() == '\n') p.text.pop_back();
  p.origin.resize(p.text.size());
  for (size_t i = 0; i < p.origin.size(); ++i) p.origin[i] = static_cast<uint32_t>(i);
  p = Cut(p, LstripCuts(p.text));
  p = Cut(p, TrimCuts(p.text));
  p = Cut(p, GenerationCuts(p.text));
  return p;
}

absl::StatusOr<std::vector<Token>> Tokenize(absl::string_view source) {
  Lexer lexer(source, Preprocess(source));
  return lexer.Run();
}

}  // namespace sllm::tokenizer::jinja
