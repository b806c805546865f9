// GPT-2's reversible byte <-> printable character mapping used by ByteLevel pre-tokenizers
// and decoders: bytes 33-126, 161-172 and 174-255 map to themselves, the rest to U+0100...
#ifndef SLLM_SERVICES_TOKENIZER_BYTE_LEVEL_H_
#define SLLM_SERVICES_TOKENIZER_BYTE_LEVEL_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sllm::tokenizer {

class ByteLevelTable {
 public:
  static const ByteLevelTable& Get();

  // UTF-8 of the character that stands for byte `b`.
  std::string_view Encode(uint8_t b) const { return {enc_[b].data(), enc_len_[b]}; }
  // Appends the characters for every byte of `bytes`.
  void EncodeTo(std::string_view bytes, std::string& out) const;
  // The byte a character stands for, or -1 when `cp` is not one of the 256 characters.
  int Decode(char32_t cp) const { return cp < 324 ? dec_[cp] : -1; }

 private:
  ByteLevelTable();
  std::array<std::array<char, 2>, 256> enc_{};
  std::array<uint8_t, 256> enc_len_{};
  std::array<int16_t, 324> dec_{};
};

// GPT-2's pre-tokenization regex (used by ByteLevel with use_regex).
inline constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

}  // namespace sllm::tokenizer

#endif  // SLLM_SERVICES_TOKENIZER_BYTE_LEVEL_H_
