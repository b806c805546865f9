#include "services/tokenizer/unicode.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/ustring.h>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace sllm::tokenizer {
namespace {

// Length of the maximal prefix of an ill-formed sequence at `pos` (at least 1): the bytes
// that Rust's lossy decoder replaces with one U+FFFD.
size_t InvalidPrefixLen(std::string_view s, size_t pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data()) + pos;
  const size_t left = s.size() - pos;
  const uint8_t b0 = p[0];
  uint8_t lo = 0x80, hi = 0xBF;
  size_t need;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 1;
  }
  size_t i = 1;
  if (i < left && p[i] >= lo && p[i] <= hi) {
    ++i;
    while (i <= need && i < left && p[i] >= 0x80 && p[i] <= 0xBF) ++i;
  }
  return i;
}

const icu::Normalizer2* GetNormalizer(NormalizationForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* n = nullptr;
  switch (form) {
    case NormalizationForm::kNfc: n = icu::Normalizer2::getNFCInstance(status); break;
    case NormalizationForm::kNfd: n = icu::Normalizer2::getNFDInstance(status); break;
    case NormalizationForm::kNfkc: n = icu::Normalizer2::getNFKCInstance(status); break;
    case NormalizationForm::kNfkd: n = icu::Normalizer2::getNFKDInstance(status); break;
  }
  CHECK(U_SUCCESS(status) && n != nullptr) << "ICU normalizer data missing: " << u_errorName(status);
  return n;
}

}  // namespace

char32_t DecodeUtf8(std::string_view text, size_t& pos) {
  const auto* p = reinterpret_cast<const uint8_t*>(text.data()) + pos;
  const uint8_t b0 = p[0];
  if (b0 < 0x80) {
    pos += 1;
    return b0;
  }
  if ((b0 >> 5) == 0x6) {
    pos += 2;
    return (char32_t(b0 & 0x1F) << 6) | (p[1] & 0x3F);
  }
  if ((b0 >> 4) == 0xE) {
    pos += 3;
    return (char32_t(b0 & 0x0F) << 12) | (char32_t(p[1] & 0x3F) << 6) | (p[2] & 0x3F);
  }
  pos += 4;
  return (char32_t(b0 & 0x07) << 18) | (char32_t(p[1] & 0x3F) << 12) |
         (char32_t(p[2] & 0x3F) << 6) | (p[3] & 0x3F);
}

void AppendUtf8(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string Utf8Lossy(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t n = Utf8WellFormedLen(bytes, pos);
    if (n > 0) {
      out.append(bytes.data() + pos, n);
      pos += n;
    } else {
      out.append("\xEF\xBF\xBD");
      pos += InvalidPrefixLen(bytes, pos);
    }
  }
  return out;
}

bool IsWhitespace(char32_t cp) { return u_hasBinaryProperty(cp, UCHAR_WHITE_SPACE); }

bool IsAlphanumeric(char32_t cp) {
  return u_hasBinaryProperty(cp, UCHAR_ALPHABETIC) || IsNumeric(cp);
}

bool IsWordChar(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') ||
           cp == '_';
  }
  const int8_t t = u_charType(cp);
  return u_hasBinaryProperty(cp, UCHAR_ALPHABETIC) || t == U_NON_SPACING_MARK ||
         t == U_ENCLOSING_MARK || t == U_COMBINING_SPACING_MARK || t == U_DECIMAL_DIGIT_NUMBER ||
         t == U_CONNECTOR_PUNCTUATION || u_hasBinaryProperty(cp, UCHAR_JOIN_CONTROL);
}

bool IsPunctuation(char32_t cp) {
  if (cp < 0x80) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) ||
                        (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  return (U_GET_GC_MASK(cp) & U_GC_P_MASK) != 0;
}

bool IsNumeric(char32_t cp) { return (U_GET_GC_MASK(cp) & U_GC_N_MASK) != 0; }
bool IsControl(char32_t cp) { return u_charType(cp) == U_CONTROL_CHAR; }
bool IsMark(char32_t cp) { return (U_GET_GC_MASK(cp) & U_GC_M_MASK) != 0; }

bool IsCjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

std::u32string ToLowerFull(char32_t cp) {
  if (cp < 0x80) return std::u32string(1, (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp);
  UChar src[2];
  int32_t src_len = 0;
  U16_APPEND_UNSAFE(src, src_len, cp);
  UChar dst[8];
  UErrorCode status = U_ZERO_ERROR;
  // The empty locale is the root locale: context-free full mappings, as Rust's.
  const int32_t n = u_strToLower(dst, 8, src, src_len, "", &status);
  std::u32string out;
  if (U_FAILURE(status)) return std::u32string(1, cp);
  for (int32_t i = 0; i < n;) {
    UChar32 c;
    U16_NEXT(dst, i, n, c);
    out.push_back(static_cast<char32_t>(c));
  }
  return out;
}

std::string Normalize(std::string_view text, NormalizationForm form) {
  const icu::Normalizer2* n = GetNormalizer(form);
  UErrorCode status = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
  n->normalizeUTF8(0, icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), sink,
                   nullptr, status);
  CHECK(U_SUCCESS(status)) << "ICU normalizeUTF8 failed on valid UTF-8: " << u_errorName(status);
  return out;
}

bool HasNormalizationBoundaryBefore(char32_t cp, NormalizationForm form) {
  return GetNormalizer(form)->hasBoundaryBefore(static_cast<UChar32>(cp));
}

bool IsNormalized(std::string_view text, NormalizationForm form) {
  const icu::Normalizer2* n = GetNormalizer(form);
  UErrorCode status = U_ZERO_ERROR;
  const bool yes =
      n->isNormalizedUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), status);
  return U_SUCCESS(status) && yes;
}

}  // namespace sllm::tokenizer
