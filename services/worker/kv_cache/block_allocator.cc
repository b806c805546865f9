#include "services/worker/kv_cache/block_allocator.h"

#include <algorithm>

#include "glog/logging.h"

namespace sllm::worker {

BlockAllocator::BlockAllocator(int32_t num_blocks)
    : ref_counts_(static_cast<size_t>(std::max(num_blocks, 0)), 0) {
  CHECK_GE(num_blocks, 0);
  free_.reserve(ref_counts_.size());
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

std::optional<int32_t> BlockAllocator::Allocate() {
  if (free_.empty()) return std::nullopt;
  int32_t block = free_.back();
  free_.pop_back();
  ref_counts_[block] = 1;
  return block;
}

bool BlockAllocator::Allocate(int32_t n, std::vector<int32_t>& out) {
  CHECK_GE(n, 0);
  if (n > num_free()) return false;
  for (int32_t i = 0; i < n; ++i) out.push_back(*Allocate());
  return true;
}

void BlockAllocator::AddRef(int32_t block) {
  CheckId(block);
  CHECK_GT(ref_counts_[block], 0) << "AddRef on free KV block " << block;
  ++ref_counts_[block];
}

void BlockAllocator::Free(int32_t block) {
  CheckId(block);
  CHECK_GT(ref_counts_[block], 0) << "double free of KV block " << block;
  if (--ref_counts_[block] == 0) free_.push_back(block);
}

void BlockAllocator::Free(absl::Span<const int32_t> blocks) {
  for (int32_t block : blocks) Free(block);
}

int32_t BlockAllocator::ref_count(int32_t block) const {
  CheckId(block);
  return ref_counts_[block];
}

double BlockAllocator::usage() const {
  return num_blocks() == 0 ? 0.0 : static_cast<double>(num_used()) / num_blocks();
}

void BlockAllocator::CheckId(int32_t block) const {
  CHECK(block >= 0 && block < num_blocks()) << "KV block id " << block << " out of range [0, "
                                            << num_blocks() << ")";
}

}  // namespace sllm::worker
