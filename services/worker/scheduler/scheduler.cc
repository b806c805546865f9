#include "services/worker/scheduler/scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sllm::worker {

Scheduler::Scheduler(const SchedulerOptions& options, BlockAllocator& allocator)
    : options_(options), allocator_(allocator), prefix_cache_(allocator, options.block_size) {}

absl::Status Scheduler::Add(std::shared_ptr<Sequence> seq) {
  if (static_cast<int32_t>(waiting_.size()) >= options_.max_waiting) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "worker overloaded: ", waiting_.size(), " requests are already waiting (limit ",
        options_.max_waiting, ")"));
  }
  const int64_t context = static_cast<int64_t>(seq->prompt_len) + seq->max_new_tokens;
  const int64_t blocks = BlocksForTokens(context, options_.block_size);
  if (blocks > allocator_.num_blocks()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "request needs ", context, " tokens of KV cache (", blocks,
        " blocks) but the whole cache holds ", allocator_.num_blocks(), " blocks"));
  }
  waiting_.push_back(std::move(seq));
  return absl::OkStatus();
}

bool Scheduler::AllocateBlocks(int32_t n, std::vector<int32_t>& out) {
  if (allocator_.num_free() < n && !prefix_cache_.EvictFor(n)) return false;
  return allocator_.Allocate(n, out);
}

bool Scheduler::EnsureBlocks(Sequence& seq, int32_t num_tokens) {
  const int32_t need =
      static_cast<int32_t>(BlocksForTokens(num_tokens, options_.block_size)) -
      static_cast<int32_t>(seq.blocks.size());
  return need <= 0 || AllocateBlocks(need, seq.blocks);
}

void Scheduler::Release(Sequence& seq) {
  allocator_.Free(seq.blocks);
  seq.blocks.clear();
}

void Scheduler::Preempt(std::shared_ptr<Sequence> seq) {
  ++preemptions_;
  Release(*seq);
  seq->num_computed = 0;
  seq->num_cached_prompt = 0;
  seq->prefix_registered = false;
  waiting_.push_front(std::move(seq));
}

void Scheduler::DropCancelled(StepSchedule& schedule) {
  auto drop = [&](std::shared_ptr<Sequence>& s) {
    if (!s->cancelled.load(std::memory_order_relaxed)) return false;
    Release(*s);
    s->finish_reason = FinishReason::kCancelled;
    schedule.cancelled.push_back(s);
    return true;
  };
  running_.erase(std::remove_if(running_.begin(), running_.end(), drop), running_.end());
  waiting_.erase(std::remove_if(waiting_.begin(), waiting_.end(), drop), waiting_.end());
}

void Scheduler::RegisterPrefix(Sequence& seq) {
  if (!options_.enable_prefix_cache || seq.prefix_registered || seq.num_computed < seq.prompt_len) {
    return;
  }
  // The previous step computed the whole prompt: share its full blocks from now on.
  const int32_t full = seq.prompt_len / options_.block_size;
  for (int32_t b = 0; b < full && b < static_cast<int32_t>(seq.blocks.size()); ++b) {
    prefix_cache_.Insert(seq.tokens, b, seq.blocks[b]);
  }
  seq.prefix_registered = true;
}

StepSchedule Scheduler::Schedule() {
  StepSchedule plan;
  DropCancelled(plan);
  for (auto& seq : running_) RegisterPrefix(*seq);
  int32_t budget = options_.max_num_batched_tokens;

  // 1. Running sequences, oldest first: a decode token or the next prefill chunk.
  for (size_t i = 0; i < running_.size() && budget > 0;) {
    Sequence& seq = *running_[i];
    const int32_t chunk = std::min(seq.num_pending(), budget);
    if (chunk <= 0) {
      ++i;
      continue;
    }
    bool ok = EnsureBlocks(seq, seq.num_computed + chunk);
    while (!ok && running_.size() > i + 1) {
      // Out of blocks: preempt the newest running sequence and retry.
      std::shared_ptr<Sequence> victim = running_.back();
      running_.pop_back();
      Preempt(std::move(victim));
      ok = EnsureBlocks(seq, seq.num_computed + chunk);
    }
    if (!ok) {
      // Even alone it cannot grow: put it back to wait for blocks.
      std::shared_ptr<Sequence> self = running_[i];
      running_.erase(running_.begin() + i);
      Preempt(std::move(self));
      continue;
    }
    plan.sequences.push_back({&seq, seq.num_computed, chunk,
                              seq.num_computed + chunk == static_cast<int32_t>(seq.tokens.size())});
    seq.num_computed += chunk;
    budget -= chunk;
    ++i;
  }

  // 2. Admit waiting sequences in arrival order while there is room.
  while (!waiting_.empty() && budget > 0 &&
         static_cast<int32_t>(running_.size()) < options_.max_num_seqs) {
    Sequence& seq = *waiting_.front();
    if (seq.num_computed == 0 && seq.blocks.empty() && options_.enable_prefix_cache) {
      // Reuse cached full blocks of the prompt, keeping at least one token to compute.
      const int32_t max_blocks = (seq.prompt_len - 1) / options_.block_size;
      const int32_t hit = prefix_cache_.Match(
          absl::MakeConstSpan(seq.tokens).subspan(0, seq.prompt_len), max_blocks, seq.blocks);
      seq.num_computed = hit * options_.block_size;
      seq.num_cached_prompt = seq.num_computed;
    }
    const int32_t chunk = std::min(seq.num_pending(), budget);
    if (!EnsureBlocks(seq, seq.num_computed + chunk)) {
      Release(seq);  // Give back cached blocks too; retry when blocks free up.
      seq.num_computed = 0;
      seq.num_cached_prompt = 0;
      break;
    }
    plan.sequences.push_back({&seq, seq.num_computed, chunk,
                              seq.num_computed + chunk == static_cast<int32_t>(seq.tokens.size())});
    seq.num_computed += chunk;
    budget -= chunk;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  plan.num_tokens = options_.max_num_batched_tokens - budget;
  return plan;
}

int64_t Scheduler::outstanding_tokens() const {
  int64_t n = 0;
  for (const auto& s : waiting_) n += s->num_outstanding();
  for (const auto& s : running_) n += s->num_outstanding();
  return n;
}

void Scheduler::Finish(Sequence* seq, FinishReason reason) {
  auto it = std::find_if(running_.begin(), running_.end(),
                         [&](const auto& s) { return s.get() == seq; });
  if (it == running_.end()) return;
  seq->finish_reason = reason;
  RegisterPrefix(*seq);
  Release(*seq);
  running_.erase(it);
}

}  // namespace sllm::worker
