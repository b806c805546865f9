#include "services/tokenizer/added_vocabulary.h"

#include <algorithm>

#include "services/common/status_macros.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

// The code point that ends at byte `end` (exclusive) of valid UTF-8 text.
char32_t LastChar(std::string_view s, size_t end) {
  size_t start = end - 1;
  while (start > 0 && (static_cast<uint8_t>(s[start]) & 0xC0) == 0x80) --start;
  size_t p = start;
  return DecodeUtf8(s, p);
}

}  // namespace

void AddedVocabulary::Matcher::Add(std::string_view pattern, uint32_t token_index) {
  if (pattern.empty()) return;
  first_[static_cast<uint8_t>(pattern[0])] = true;
  uint32_t node = 0;
  for (char c : pattern) {
    const auto b = static_cast<uint8_t>(c);
    auto& ch = nodes_[node].children;
    auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, uint32_t{0}),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it != ch.end() && it->first == b) {
      node = it->second;
    } else {
      const auto next = static_cast<uint32_t>(nodes_.size());
      ch.insert(it, {b, next});
      nodes_.emplace_back();
      node = next;
    }
  }
  // Leftmost-longest with identical patterns: the first added wins.
  if (nodes_[node].token < 0) nodes_[node].token = token_index;
}

std::pair<size_t, uint32_t> AddedVocabulary::Matcher::LongestAt(std::string_view text,
                                                                size_t pos) const {
  std::pair<size_t, uint32_t> best{0, 0};
  uint32_t node = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    const auto b = static_cast<uint8_t>(text[i]);
    const auto& ch = nodes_[node].children;
    auto it = std::lower_bound(ch.begin(), ch.end(), std::make_pair(b, uint32_t{0}),
                               [](const auto& x, const auto& y) { return x.first < y.first; });
    if (it == ch.end() || it->first != b) break;
    node = it->second;
    if (nodes_[node].token >= 0) best = {i + 1 - pos, static_cast<uint32_t>(nodes_[node].token)};
  }
  return best;
}

absl::StatusOr<AddedVocabulary> AddedVocabulary::Build(std::vector<AddedToken> tokens,
                                                       const Normalizer* normalizer) {
  AddedVocabulary v;
  v.tokens_ = std::move(tokens);
  // Special tokens take matching priority order first, as tokenizers orders its tries.
  std::vector<uint32_t> order(v.tokens_.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(),
                        [&](uint32_t i) { return v.tokens_[i].special; });
  for (size_t i = 0; i < v.tokens_.size(); ++i) {
    v.by_id_[v.tokens_[i].id] = i;
    v.by_content_.try_emplace(v.tokens_[i].content, v.tokens_[i].id);
  }
  for (uint32_t i : order) {
    const AddedToken& t = v.tokens_[i];
    if (t.content.empty()) continue;
    if (!t.normalized) {
      v.raw_.Add(t.content, i);
      continue;
    }
    NormalizedString s(t.content, 0, false);
    if (normalizer != nullptr) RETURN_IF_ERROR(normalizer->Normalize(s));
    v.normalized_.Add(s.text(), i);
  }
  return v;
}

const AddedToken* AddedVocabulary::FindById(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

std::optional<uint32_t> AddedVocabulary::FindByContent(std::string_view content) const {
  auto it = by_content_.find(absl::string_view(content.data(), content.size()));
  if (it == by_content_.end()) return std::nullopt;
  return it->second;
}

void AddedVocabulary::SplitOn(NormalizedString piece, const Matcher& matcher,
                              std::vector<Segment>& out) const {
  const std::string& s = piece.text();
  if (matcher.empty() || s.empty()) {
    out.push_back({std::move(piece), std::nullopt});
    return;
  }
  size_t start_offset = 0;  // End of the previous match.
  size_t pos = 0;
  bool any = false;
  while (pos < s.size()) {
    if (!matcher.MayStartWith(static_cast<uint8_t>(s[pos]))) {
      ++pos;
      continue;
    }
    auto [len, index] = matcher.LongestAt(s, pos);
    if (len == 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[index];
    size_t start = pos, stop = pos + len;
    pos = stop;  // Matches never overlap, even discarded ones.
    if (t.single_word) {
      const bool start_space = start == 0 || !IsWordChar(LastChar(s, start));
      size_t p = stop;
      const bool stop_space = stop == s.size() || !IsWordChar(DecodeUtf8(s, p));
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) {
      size_t new_start = start;
      while (new_start > 0) {
        size_t cs = new_start - 1;
        while (cs > 0 && (static_cast<uint8_t>(s[cs]) & 0xC0) == 0x80) --cs;
        size_t p = cs;
        if (!IsWhitespace(DecodeUtf8(s, p))) break;
        new_start = cs;
      }
      start = std::max(new_start, start_offset);
    }
    if (t.rstrip) {
      while (stop < s.size()) {
        size_t p = stop;
        if (!IsWhitespace(DecodeUtf8(s, p))) break;
        stop = p;
      }
      pos = stop;
    }
    if (start_offset < start) out.push_back({piece.Slice(start_offset, start), std::nullopt});
    out.push_back({piece.Slice(start, stop), t.id});
    start_offset = stop;
    any = true;
  }
  if (!any) {
    out.push_back({std::move(piece), std::nullopt});
    return;
  }
  if (start_offset < s.size()) out.push_back({piece.Slice(start_offset, s.size()), std::nullopt});
}

absl::Status AddedVocabulary::Extract(std::string_view text, const Normalizer* normalizer,
                                      bool track, std::vector<Segment>& out) const {
  out.clear();
  std::vector<Segment> raw;
  SplitOn(NormalizedString(text, 0, track), raw_, raw);
  for (Segment& seg : raw) {
    if (seg.token_id) {
      out.push_back(std::move(seg));
      continue;
    }
    if (normalizer != nullptr) RETURN_IF_ERROR(normalizer->Normalize(seg.text));
    SplitOn(std::move(seg.text), normalized_, out);
  }
  return absl::OkStatus();
}

}  // namespace sllm::tokenizer
