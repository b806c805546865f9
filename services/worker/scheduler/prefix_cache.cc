#include "services/worker/scheduler/prefix_cache.h"

#include "absl/hash/hash.h"

namespace sllm::worker {

PrefixCache::~PrefixCache() {
  for (const auto& [hash, entry] : entries_) allocator_.Free(entry.block);
}

uint64_t PrefixCache::BlockHash(uint64_t previous, absl::Span<const int64_t> block_tokens) {
  return absl::HashOf(previous, block_tokens);
}

uint64_t PrefixCache::ChainHash(absl::Span<const int64_t> tokens, int32_t index) const {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (int32_t i = 0; i <= index; ++i) {
    h = BlockHash(h, tokens.subspan(static_cast<size_t>(i) * block_size_, block_size_));
  }
  return h;
}

int32_t PrefixCache::Match(absl::Span<const int64_t> prompt, int32_t max_blocks,
                           std::vector<int32_t>& blocks) {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  int32_t n = 0;
  for (; n < max_blocks && static_cast<size_t>(n + 1) * block_size_ <= prompt.size(); ++n) {
    ++queries_;
    h = BlockHash(h, prompt.subspan(static_cast<size_t>(n) * block_size_, block_size_));
    auto it = entries_.find(h);
    if (it == entries_.end()) break;
    ++hits_;
    allocator_.AddRef(it->second.block);
    blocks.push_back(it->second.block);
    lru_.splice(lru_.end(), lru_, it->second.lru);  // Most recently used.
  }
  return n;
}

void PrefixCache::Insert(absl::Span<const int64_t> tokens, int32_t index, int32_t block) {
  const uint64_t h = ChainHash(tokens, index);
  if (entries_.contains(h)) return;
  allocator_.AddRef(block);
  lru_.push_back(h);
  entries_.emplace(h, Entry{block, std::prev(lru_.end())});
}

bool PrefixCache::EvictFor(int32_t needed) {
  for (auto it = lru_.begin(); it != lru_.end() && allocator_.num_free() < needed;) {
    auto entry = entries_.find(*it);
    if (allocator_.ref_count(entry->second.block) == 1) {  // Only the cache holds it.
      allocator_.Free(entry->second.block);
      entries_.erase(entry);
      it = lru_.erase(it);
    } else {
      ++it;
    }
  }
  return allocator_.num_free() >= needed;
}

}  // namespace sllm::worker
