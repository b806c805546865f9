// libFuzzer target: IncrementalDetokenizer fed arbitrary id sequences one id at a time, on
// Llama 3 (byte-level BPE) and stories260K (byte-fallback BPE with a Strip decoder), loaded
// once. Byte 0 picks the tokenizer (bit 0) and skip_special_tokens (bit 1); the rest are ids,
// 3 bytes each, as in tokenizer_fuzz.cc.
// Checked: the contract of incremental_detokenizer.h:
//   - every delta (Add and Finish) is valid UTF-8;
//   - an id outside the vocabulary is INVALID_ARGUMENT and leaves the state unchanged;
//   - the deltas join to exactly Tokenizer::Decode of the accepted ids, and emitted_bytes()
//     counts them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "services/tokenizer/incremental_detokenizer.h"
#include "services/tokenizer/tokenizer.h"
#include "services/tokenizer/unicode.h"

namespace {

using sllm::tokenizer::IncrementalDetokenizer;
using sllm::tokenizer::Tokenizer;

std::unique_ptr<Tokenizer> LoadOrDie(const std::string& path) {
  auto t = Tokenizer::FromFile(path);
  if (!t.ok()) {
    std::fprintf(stderr, "cannot load %s: %s\n", path.c_str(), t.status().ToString().c_str());
    std::abort();
  }
  return std::move(*t);
}

const Tokenizer& Get(bool llama3) {
  static const Tokenizer* l =
      LoadOrDie(SLLM_TESTDATA_DIR "/tokenizers/llama3/tokenizer.json").release();
  static const Tokenizer* s = LoadOrDie(SLLM_MODELS_DIR "/stories260K/tokenizer.json").release();
  return llama3 ? *l : *s;
}

void Fail(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 3 * 4096 + 1) return 0;
  const Tokenizer& t = Get(data[0] & 1);
  const bool skip = data[0] & 2;
  IncrementalDetokenizer detok(t, skip);
  std::vector<uint32_t> accepted;
  std::string joined;
  for (size_t i = 1; i + 3 <= size; i += 3) {
    const uint32_t v = data[i] | (data[i + 1] << 8) | (uint32_t{data[i + 2]} << 16);
    uint32_t id;
    if (v == 0xFFFFFF) {
      id = UINT32_MAX;
    } else if (v & 0x800000) {
      id = t.vocab_size() + (v & 0x7FFFFF);
    } else {
      id = v % t.vocab_size();
    }
    auto delta = detok.Add(id);
    if (!delta.ok()) {
      if (t.IdToToken(id) != nullptr) Fail("Add rejected a known id");
      if (delta.status().code() != absl::StatusCode::kInvalidArgument) {
        Fail("unknown id is INVALID_ARGUMENT");
      }
      continue;
    }
    if (t.IdToToken(id) == nullptr) Fail("Add accepted an unknown id");
    if (sllm::tokenizer::FindInvalidUtf8(*delta)) Fail("delta is not valid UTF-8");
    joined += *delta;
    accepted.push_back(id);
    if (detok.emitted_bytes() != joined.size()) Fail("emitted_bytes() counts the deltas");
  }
  const std::string last = detok.Finish();
  if (sllm::tokenizer::FindInvalidUtf8(last)) Fail("Finish() is not valid UTF-8");
  joined += last;
  auto whole = t.Decode(accepted, skip);
  if (!whole.ok()) Fail("Decode of accepted ids failed");
  if (joined != *whole) {
    std::fprintf(stderr, "streamed: [%s]\nwhole:    [%s]\n", joined.c_str(), whole->c_str());
    Fail("deltas join to Decode of all ids");
  }
  return 0;
}
