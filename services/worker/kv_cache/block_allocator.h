// Fixed-size KV-cache blocks handed out from a free list, with reference counts so that
// sequences can share blocks (prefix caching, forks). No libtorch: the scheduler plans with it.
//
// Not thread-safe: one engine step loop owns it. Misuse (freeing a free block, an id out of
// range) is a bug in the caller and crashes.
#ifndef SLLM_SERVICES_WORKER_KV_CACHE_BLOCK_ALLOCATOR_H_
#define SLLM_SERVICES_WORKER_KV_CACHE_BLOCK_ALLOCATOR_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/types/span.h"

namespace sllm::worker {

class BlockAllocator {
 public:
  // Blocks 0 .. num_blocks-1, all free.
  explicit BlockAllocator(int32_t num_blocks);

  // A free block with reference count 1, or nullopt when none is left. Fresh blocks come out
  // in increasing order; freed blocks are reused first (most recently freed first).
  std::optional<int32_t> Allocate();
  // Appends `n` blocks to `out`, all or none: false (and `out` unchanged) when fewer than `n`
  // are free.
  bool Allocate(int32_t n, std::vector<int32_t>& out);

  // One more reference to an allocated block.
  void AddRef(int32_t block);
  // Drops one reference; at zero the block is free again.
  void Free(int32_t block);
  void Free(absl::Span<const int32_t> blocks);

  int32_t ref_count(int32_t block) const;
  int32_t num_blocks() const { return static_cast<int32_t>(ref_counts_.size()); }
  int32_t num_free() const { return static_cast<int32_t>(free_.size()); }
  int32_t num_used() const { return num_blocks() - num_free(); }
  // Fraction of blocks in use, 0 when there are no blocks.
  double usage() const;

 private:
  void CheckId(int32_t block) const;

  std::vector<int32_t> ref_counts_;
  std::vector<int32_t> free_;  // A stack: back() is allocated next.
};

// Blocks needed to hold `num_tokens` tokens.
inline int64_t BlocksForTokens(int64_t num_tokens, int64_t block_size) {
  return (num_tokens + block_size - 1) / block_size;
}

}  // namespace sllm::worker

#endif  // SLLM_SERVICES_WORKER_KV_CACHE_BLOCK_ALLOCATOR_H_
