#include "services/tokenizer/regex.h"

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace sllm::tokenizer {
namespace {

// Oniguruma's Unicode definitions (its \s is White_Space: controls 9-13, U+0085 and Z*).
constexpr absl::string_view kSpaceItems = R"(\t\n\x0B\f\r\x{85}\p{Z})";
constexpr absl::string_view kWordItems = R"(\p{L}\p{M}\p{Nd}\p{Pc})";

struct MatchState {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  MatchState() {
    data = pcre2_match_data_create(1, nullptr);
    context = pcre2_match_context_create(nullptr);
    // Long whitespace runs backtrack deeply; 4 MiB covers lines of any length we accept.
    stack = pcre2_jit_stack_create(64 * 1024, 4 * 1024 * 1024, nullptr);
    pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~MatchState() {
    pcre2_match_data_free(data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
  }
};

MatchState& ThreadMatchState() {
  thread_local MatchState state;
  return state;
}

}  // namespace

absl::StatusOr<std::string> TranslateOnigPattern(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 32);
  int class_depth = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      ++i;
      const bool in_class = class_depth > 0;
      switch (e) {
        case 's':
          absl::StrAppend(&out, in_class ? "" : "[", kSpaceItems, in_class ? "" : "]");
          continue;
        case 'w':
          absl::StrAppend(&out, in_class ? "" : "[", kWordItems, in_class ? "" : "]");
          continue;
        case 'S':
        case 'W':
          if (in_class) {
            return absl::InvalidArgumentError(absl::StrCat(
                "regex \\", std::string(1, e), " inside a character class is not supported: ",
                std::string(p)));
          }
          absl::StrAppend(&out, "[^", e == 'S' ? kSpaceItems : kWordItems, "]");
          continue;
        default:
          out.push_back('\\');
          out.push_back(e);
          continue;
      }
    }
    if (c == '[') {
      // POSIX classes such as [:alpha:] inside a class do not open a nested class.
      if (class_depth > 0 && i + 1 < p.size() && p[i + 1] == ':') {
        const size_t close = p.find(":]", i + 2);
        if (close != std::string_view::npos) {
          out.append(p.substr(i, close + 2 - i));
          i = close + 1;
          continue;
        }
      }
      ++class_depth;
      out.push_back(c);
      // A ']' right after '[' or '[^' is a literal.
      if (i + 1 < p.size() && p[i + 1] == '^') {
        out.push_back('^');
        ++i;
      }
      if (i + 1 < p.size() && p[i + 1] == ']') {
        out.push_back(']');
        ++i;
      }
      continue;
    }
    if (c == ']' && class_depth > 0) --class_depth;
    out.push_back(c);
  }
  return out;
}

std::string QuoteRegex(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Regex>> Regex::Compile(std::string_view pattern) {
  auto translated = TranslateOnigPattern(pattern);
  if (!translated.ok()) return translated.status();
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated->data()),
                                   translated->size(), PCRE2_UTF | PCRE2_UCP, &error, &offset,
                                   nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    return absl::InvalidArgumentError(absl::StrCat("invalid regex '", std::string(pattern), "' at offset ",
                                                   offset, ": ",
                                                   reinterpret_cast<const char*>(message)));
  }
  std::unique_ptr<Regex> re(new Regex());
  re->pattern_ = std::string(pattern);
  re->code_ = code;
  re->jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  return re;
}

Regex::~Regex() { pcre2_code_free(code_); }

absl::StatusOr<bool> Regex::Find(std::string_view text, size_t start,
                                 std::pair<size_t, size_t>& match) const {
  MatchState& st = ThreadMatchState();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  // Callers validate UTF-8 once at the edge; skip PCRE2's per-call check.
  const int rc = jit_ ? pcre2_jit_match(code_, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                        st.data, st.context)
                      : pcre2_match(code_, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                    st.data, st.context);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof(message));
    return absl::ResourceExhaustedError(absl::StrCat(
        "regex match failed on input of ", text.size(), " bytes: ",
        reinterpret_cast<const char*>(message)));
  }
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
  match = {ov[0], ov[1]};
  return true;
}

absl::StatusOr<std::vector<std::pair<size_t, size_t>>> Regex::FindAll(
    std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> out;
  absl::Status st = ForEachMatch(text, [&](size_t s, size_t e) { out.emplace_back(s, e); });
  if (!st.ok()) return st;
  return out;
}

}  // namespace sllm::tokenizer
