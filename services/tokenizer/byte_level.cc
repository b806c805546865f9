#include "services/tokenizer/byte_level.h"

#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {

const ByteLevelTable& ByteLevelTable::Get() {
  static const ByteLevelTable table;
  return table;
}

ByteLevelTable::ByteLevelTable() {
  dec_.fill(-1);
  int next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    const char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(next++);
    std::string utf8;
    AppendUtf8(cp, utf8);
    enc_len_[b] = static_cast<uint8_t>(utf8.size());
    for (size_t i = 0; i < utf8.size(); ++i) enc_[b][i] = utf8[i];
    dec_[cp] = static_cast<int16_t>(b);
  }
}

void ByteLevelTable::EncodeTo(std::string_view bytes, std::string& out) const {
  for (char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    out.append(enc_[b].data(), enc_len_[b]);
  }
}

}  // namespace sllm::tokenizer
