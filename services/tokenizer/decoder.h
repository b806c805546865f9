// Decoders of tokenizer.json: ByteLevel, ByteFallback, Replace, Fuse, Strip, Metaspace,
// WordPiece, BPEDecoder and Sequence, with the semantics of Hugging Face `tokenizers`.
//
// A decoder may also decode a continuation: tokens that follow an already decoded prefix at
// a clean cut (a complete UTF-8 boundary, not inside a run of byte-fallback tokens). Rules
// that only apply at the very start of the text (Metaspace's and WordPiece's first token,
// Strip after Fuse) are then skipped, so that decode(prefix) + decode(rest, continuation)
// equals decode(prefix + rest). The incremental detokenizer relies on this.
#ifndef SLLM_SERVICES_TOKENIZER_DECODER_H_
#define SLLM_SERVICES_TOKENIZER_DECODER_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace sllm::tokenizer {

// What a decoder in a chain knows about the list it transforms.
struct DecodeState {
  bool first_is_start = true;  // tokens[0] begins the whole text (false for a continuation).
  bool fused = false;          // An earlier decoder joined the list into one token.
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Transforms the token strings in place (tokenizers' decode_chain).
  virtual void DecodeChain(std::vector<std::string>& tokens, DecodeState& state) const = 0;
  // False when decode(prefix) + decode(rest, continuation) may differ from the whole decode.
  virtual bool SupportsContinuation(bool fused_before) const { return true; }
  // True when the decoder joins all tokens into one.
  virtual bool Fuses() const { return false; }
};

// Null JSON gives nullptr (tokens are joined with spaces). Unsupported types fail by name.
absl::StatusOr<std::unique_ptr<Decoder>> DecoderFromJson(const nlohmann::json& j);

// The byte of a "<0xXX>" token string, or -1.
int ParseByteToken(const std::string& token);

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_DECODER_H_
