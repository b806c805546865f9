#include "services/tokenizer/bpe_model.h"

#include <queue>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "services/common/absl_view.h"
#include "services/tokenizer/unicode.h"

namespace sllm::tokenizer {
namespace {

using Json = nlohmann::json;

uint64_t PairKey(uint32_t a, uint32_t b) { return (static_cast<uint64_t>(a) << 32) | b; }

struct Symbol {
  uint32_t id;
  uint32_t len;  // Bytes of the piece; 0 once merged into its left neighbour.
  int32_t prev;
  int32_t next;
};

struct MergeCandidate {
  uint32_t rank;
  int32_t pos;
  uint32_t new_id;
  // Lowest rank first, then leftmost.
  bool operator>(const MergeCandidate& o) const {
    return rank != o.rank ? rank > o.rank : pos > o.pos;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::FromJson(const Json& m) {
  std::unique_ptr<BpeModel> bpe(new BpeModel());
  if (!m.contains("vocab") || !m["vocab"].is_object()) {
    return absl::InvalidArgumentError("BPE model has no vocab object");
  }
  uint32_t max_id = 0;
  bpe->vocab_.reserve(m["vocab"].size());
  for (const auto& [token, id] : m["vocab"].items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) {
      return absl::InvalidArgumentError(absl::StrCat("vocab entry '", token, "' has no valid id"));
    }
    if (id.get<int64_t>() > kMaxTokenId) {
      return absl::InvalidArgumentError(absl::StrCat("vocab entry '", token, "' has id ",
                                                     id.get<int64_t>(),
                                                     ", beyond the largest supported id ",
                                                     kMaxTokenId));
    }
    const auto v = id.get<uint32_t>();
    bpe->vocab_.emplace(token, v);
    max_id = std::max(max_id, v);
  }
  bpe->vocab_r_.resize(bpe->vocab_.empty() ? 0 : max_id + 1);
  bpe->has_id_.assign(bpe->vocab_r_.size(), false);
  for (const auto& [token, id] : bpe->vocab_) {
    bpe->vocab_r_[id] = token;
    bpe->has_id_[id] = true;
  }
  auto str = [&](const char* key) {
    return m.contains(key) && m[key].is_string() ? m[key].get<std::string>() : std::string();
  };
  auto flag = [&](const char* key) {
    return m.contains(key) && m[key].is_boolean() && m[key].get<bool>();
  };
  bpe->continuing_subword_prefix_ = str("continuing_subword_prefix");
  bpe->end_of_word_suffix_ = str("end_of_word_suffix");
  bpe->fuse_unk_ = flag("fuse_unk");
  bpe->byte_fallback_ = flag("byte_fallback");
  bpe->ignore_merges_ = flag("ignore_merges");
  if (m.contains("dropout") && m["dropout"].is_number() && m["dropout"].get<double>() > 0) {
    return absl::UnimplementedError("BPE dropout is not supported for serving");
  }
  if (const std::string unk = str("unk_token"); !unk.empty()) {
    auto it = bpe->vocab_.find(unk);
    if (it == bpe->vocab_.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unk_token '", unk, "' is not in the vocab"));
    }
    bpe->unk_id_ = it->second;
  }
  for (int b = 0; b < 256; ++b) {
    auto it = bpe->vocab_.find(absl::StrFormat("<0x%02X>", b));
    bpe->byte_ids_[b] = it == bpe->vocab_.end() ? -1 : static_cast<int32_t>(it->second);
  }
  // Merges: "a b" strings or ["a", "b"] pairs, in rank order.
  if (m.contains("merges") && m["merges"].is_array()) {
    const auto& merges = m["merges"];
    bpe->merges_.reserve(merges.size());
    const size_t prefix_len = bpe->continuing_subword_prefix_.size();
    for (size_t rank = 0; rank < merges.size(); ++rank) {
      const auto& e = merges[rank];
      std::string a, b;
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
          return absl::InvalidArgumentError(absl::StrCat("merge ", rank, " is not 'a b': ", s));
        }
        a = s.substr(0, sp);
        b = s.substr(sp + 1);
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        a = e[0].get<std::string>();
        b = e[1].get<std::string>();
      } else {
        return absl::InvalidArgumentError(absl::StrCat("merge ", rank, " is malformed: ", e.dump()));
      }
      auto ia = bpe->vocab_.find(a);
      auto ib = bpe->vocab_.find(b);
      if (ia == bpe->vocab_.end() || ib == bpe->vocab_.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("merge ", rank, " uses a token outside the vocab: '", a, "' '", b, "'"));
      }
      const std::string merged = a + (b.size() >= prefix_len ? b.substr(prefix_len) : b);
      auto im = bpe->vocab_.find(merged);
      if (im == bpe->vocab_.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("merge ", rank, " yields '", merged, "', which is not in the vocab"));
      }
      bpe->merges_.try_emplace(PairKey(ia->second, ib->second),
                               static_cast<uint32_t>(rank), im->second);
    }
  }
  return bpe;
}

std::optional<uint32_t> BpeModel::TokenToId(std::string_view token) const {
  auto it = vocab_.find(AbslView(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::IdToToken(uint32_t id) const {
  if (id >= vocab_r_.size() || !has_id_[id]) return nullptr;
  return &vocab_r_[id];
}

void BpeModel::Tokenize(std::string_view piece, std::vector<PieceToken>& out) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    if (auto it = vocab_.find(AbslView(piece)); it != vocab_.end()) {
      out.push_back({it->second, static_cast<uint32_t>(piece.size())});
      return;
    }
  }
  if (piece.size() >= kMaxCachedLen) {
    MergeWord(piece, out);
    return;
  }
  const size_t hash = absl::Hash<absl::string_view>()(AbslView(piece));
  CacheShard& shard = cache_[hash % kCacheShards];
  {
    absl::ReaderMutexLock lock(&shard.mu);
    auto it = shard.map.find(AbslView(piece));
    if (it != shard.map.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t first = out.size();
  MergeWord(piece, out);
  absl::MutexLock lock(&shard.mu);
  if (shard.map.size() < kShardCapacity) {
    shard.map.try_emplace(std::string(piece), out.begin() + first, out.end());
  }
}

void BpeModel::MergeWord(std::string_view w, std::vector<PieceToken>& out) const {
  thread_local std::vector<Symbol> symbols;
  thread_local std::vector<MergeCandidate> heap_storage;
  thread_local std::string scratch;
  symbols.clear();
  auto add = [&](uint32_t id, uint32_t len) {
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back({id, len, n - 1, -1});
    if (n > 0) symbols[n - 1].next = n;
  };
  std::optional<PieceToken> unk;
  size_t pos = 0;
  while (pos < w.size()) {
    const size_t start = pos;
    pos += Utf8SeqLen(static_cast<uint8_t>(w[pos]));
    if (pos > w.size()) pos = w.size();
    const auto byte_len = static_cast<uint32_t>(pos - start);
    std::string_view s = w.substr(start, byte_len);
    const bool affixed = (start > 0 && !continuing_subword_prefix_.empty()) ||
                         (pos == w.size() && !end_of_word_suffix_.empty());
    if (affixed) {
      scratch.clear();
      if (start > 0) scratch += continuing_subword_prefix_;
      scratch += s;
      if (pos == w.size()) scratch += end_of_word_suffix_;
      s = scratch;
    }
    if (auto it = vocab_.find(AbslView(s)); it != vocab_.end()) {
      if (unk) {
        add(unk->id, unk->len);
        unk.reset();
      }
      add(it->second, byte_len);
      continue;
    }
    if (byte_fallback_) {
      bool all = true;
      for (char c : s) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (char c : s) add(static_cast<uint32_t>(byte_ids_[static_cast<uint8_t>(c)]), 1);
        continue;
      }
    }
    if (unk_id_) {
      if (unk && fuse_unk_) {
        unk->len += byte_len;
      } else {
        if (unk) add(unk->id, unk->len);
        unk = PieceToken{*unk_id_, byte_len};
      }
    }
  }
  if (unk) add(unk->id, unk->len);

  // Apply merges lowest rank first (leftmost on ties), as tokenizers' Word::merge_all.
  heap_storage.clear();
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, std::greater<>> heap(
      std::greater<>(), std::move(heap_storage));
  auto push_pair = [&](int32_t i) {
    const int32_t j = symbols[i].next;
    if (j < 0) return;
    auto it = merges_.find(PairKey(symbols[i].id, symbols[j].id));
    if (it != merges_.end()) heap.push({it->second.first, i, it->second.second});
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(symbols.size()); ++i) push_pair(i);
  while (!heap.empty()) {
    const MergeCandidate top = heap.top();
    heap.pop();
    Symbol& left = symbols[top.pos];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = symbols[left.next];
    auto it = merges_.find(PairKey(left.id, right.id));
    if (it == merges_.end() || it->second.second != top.new_id) continue;
    left.id = top.new_id;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (const Symbol& s : symbols) {
    if (s.len > 0) out.push_back({s.id, s.len});
  }
}

}  // namespace sllm::tokenizer
