// libFuzzer target: Tokenizer::Encode of arbitrary bytes and Tokenizer::Decode of arbitrary id
// sequences, on two real tokenizers loaded once: Llama 3 (byte-level BPE, no normalizer) and
// stories260K (SentencePiece-style BPE with byte fallback: Prepend/Replace normalizer,
// Replace/ByteFallback/Fuse/Strip decoder).
//
// Input: byte 0 picks the tokenizer (bit 0), the operation (bit 1: encode / decode) and options
// (bits 2-3); the rest is the text to encode, or the ids to decode (3 bytes each, see ReadIds).
// Checked properties, besides no crash / UB / leak:
//   - Encode of valid UTF-8 succeeds, of anything else fails with INVALID_ARGUMENT; ids are in
//     the vocabulary; offsets, when asked for, are one per id and lie inside the input.
//   - Round trip: Llama 3 decodes its encoding (no special tokens added, none skipped) to the
//     exact input (byte-level BPE without a normalizer is lossless); stories260K does too when
//     the text contains no added-token content ("<s>" etc. would be split out as its own token,
//     and its decoder strips the leading space of the first token only) and no U+2581 (its
//     normalizer writes spaces as U+2581 and its decoder turns every U+2581 into a space).
//   - Decode fails with INVALID_ARGUMENT exactly when some id has no token, and otherwise
//     returns valid UTF-8 (invalid byte runs become U+FFFD, as in HF tokenizers).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "services/tokenizer/tokenizer.h"
#include "services/tokenizer/unicode.h"

namespace {

using sllm::tokenizer::Tokenizer;

struct Loaded {
  std::unique_ptr<Tokenizer> llama3;
  std::unique_ptr<Tokenizer> stories;
};

std::unique_ptr<Tokenizer> LoadOrDie(const std::string& path) {
  auto t = Tokenizer::FromFile(path);
  if (!t.ok()) {
    std::fprintf(stderr, "cannot load %s: %s\n", path.c_str(), t.status().ToString().c_str());
    std::abort();
  }
  return std::move(*t);
}

const Loaded& Tokenizers() {
  static const Loaded* loaded = [] {
    auto* l = new Loaded;
    l->llama3 = LoadOrDie(SLLM_TESTDATA_DIR "/tokenizers/llama3/tokenizer.json");
    l->stories = LoadOrDie(SLLM_MODELS_DIR "/stories260K/tokenizer.json");
    return l;
  }();
  return *loaded;
}

void Fail(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

// Ids, 3 bytes each (little-endian). With the top bit clear the value is taken modulo the
// vocabulary size (an id in range); with it set the id is past the end of the vocabulary, by
// up to 2^23, or UINT32_MAX for 0xFFFFFF.
std::vector<uint32_t> ReadIds(const uint8_t* data, size_t size, uint32_t vocab_size) {
  std::vector<uint32_t> ids;
  for (size_t i = 0; i + 3 <= size; i += 3) {
    const uint32_t v = data[i] | (data[i + 1] << 8) | (uint32_t{data[i + 2]} << 16);
    if (v == 0xFFFFFF) {
      ids.push_back(UINT32_MAX);
    } else if (v & 0x800000) {
      ids.push_back(vocab_size + (v & 0x7FFFFF));
    } else {
      ids.push_back(v % vocab_size);
    }
  }
  return ids;
}

bool ContainsAddedContent(const Tokenizer& t, std::string_view text) {
  for (const auto& added : t.added_tokens()) {
    if (text.find(added.content) != std::string_view::npos) return true;
  }
  return false;
}

void FuzzEncode(const Tokenizer& t, bool lossless, std::string_view text, bool special,
                bool offsets) {
  auto enc = t.Encode(text, {.add_special_tokens = special, .return_offsets = offsets});
  const bool valid = !sllm::tokenizer::FindInvalidUtf8(text).has_value();
  if (!enc.ok()) {
    if (valid) Fail("Encode of valid UTF-8 failed");
    if (enc.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("invalid UTF-8 is INVALID_ARGUMENT");
    }
    return;
  }
  if (!valid) Fail("Encode accepted invalid UTF-8");
  for (uint32_t id : enc->ids) {
    if (t.IdToToken(id) == nullptr) Fail("Encode produced an id outside the vocabulary");
  }
  if (offsets) {
    if (enc->offsets.size() != enc->ids.size()) Fail("one offset per id");
    for (const auto& r : enc->offsets) {
      if (r.first > r.second || r.second > text.size()) Fail("offset outside the input");
    }
  }
  // The round trip needs the ids of the text alone.
  if (special) {
    enc = t.Encode(text, {.add_special_tokens = false});
    if (!enc.ok()) Fail("Encode of valid UTF-8 failed");
  }
  auto decoded = t.Decode(enc->ids, /*skip_special_tokens=*/false);
  if (!decoded.ok()) Fail("Decode of Encode's ids failed");
  if (lossless && *decoded != text) Fail("decode(encode(text)) != text");
}

void FuzzDecode(const Tokenizer& t, const std::vector<uint32_t>& ids, bool skip) {
  bool all_known = true;
  for (uint32_t id : ids) all_known = all_known && t.IdToToken(id) != nullptr;
  auto decoded = t.Decode(ids, skip);
  if (decoded.ok() != all_known) Fail("Decode fails exactly on unknown ids");
  if (!decoded.ok()) {
    if (decoded.status().code() != absl::StatusCode::kInvalidArgument) {
      Fail("unknown id is INVALID_ARGUMENT");
    }
    return;
  }
  if (sllm::tokenizer::FindInvalidUtf8(*decoded)) Fail("Decode returned invalid UTF-8");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 16 * 1024) return 0;
  const Loaded& loaded = Tokenizers();
  const uint8_t control = data[0];
  const bool use_llama3 = control & 1;
  const Tokenizer& t = use_llama3 ? *loaded.llama3 : *loaded.stories;
  const bool flag_a = control & 4, flag_b = control & 8;
  ++data;
  --size;
  if ((control & 2) == 0) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    // stories260K maps ' ' to U+2581 and back, so a U+2581 in the text comes back as ' '.
    const bool lossless = use_llama3 || (!ContainsAddedContent(t, text) &&
                                         text.find("\xE2\x96\x81") == std::string_view::npos);
    FuzzEncode(t, lossless, text, flag_a, flag_b);
  } else {
    FuzzDecode(t, ReadIds(data, size, t.vocab_size()), flag_a);
  }
  return 0;
}
