// Reuse of KV blocks across sequences with an identical prompt prefix. A full block is keyed
// by a hash chained over every token up to its end, so a hit means the whole prefix matches.
// The cache holds one reference to each block it remembers; blocks only it references are
// evicted, least recently used first, when the allocator runs short.
#ifndef SLLM_SERVICES_WORKER_SCHEDULER_PREFIX_CACHE_H_
#define SLLM_SERVICES_WORKER_SCHEDULER_PREFIX_CACHE_H_

#include <cstdint>
#include <list>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "services/worker/kv_cache/block_allocator.h"

namespace sllm::worker {

class PrefixCache {
 public:
  PrefixCache(BlockAllocator& allocator, int32_t block_size)
      : allocator_(allocator), block_size_(block_size) {}
  ~PrefixCache();

  // Hash of the full block `index` of `tokens`, chained with the previous blocks.
  static uint64_t BlockHash(uint64_t previous, absl::Span<const int64_t> block_tokens);

  // Appends to `blocks` (with a reference each) the cached blocks that hold the longest
  // cached prefix of `prompt`, at most `max_blocks`. Returns how many were appended.
  int32_t Match(absl::Span<const int64_t> prompt, int32_t max_blocks, std::vector<int32_t>& blocks);

  // Remembers block `index` (full, computed) of a sequence whose tokens are `tokens`.
  void Insert(absl::Span<const int64_t> tokens, int32_t index, int32_t block);

  // Frees cached blocks that nobody else uses until `needed` blocks are free (or none is
  // left to evict). Returns whether `needed` blocks are free.
  bool EvictFor(int32_t needed);

  int64_t hits() const { return hits_; }
  int64_t queries() const { return queries_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    int32_t block;
    std::list<uint64_t>::iterator lru;
  };
  uint64_t ChainHash(absl::Span<const int64_t> tokens, int32_t index) const;

  BlockAllocator& allocator_;
  const int32_t block_size_;
  absl::flat_hash_map<uint64_t, Entry> entries_;
  std::list<uint64_t> lru_;  // Front: least recently used.
  int64_t hits_ = 0;         // Blocks served from the cache.
  int64_t queries_ = 0;      // Full prompt blocks looked up.
};

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_SCHEDULER_PREFIX_CACHE_H_
