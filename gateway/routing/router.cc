#include "gateway/routing/router.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace sllm::gateway {

void Router::SetShards(const std::vector<std::string>& names) {
  absl::MutexLock lock(&mu_);
  std::vector<Shard> next;
  for (const std::string& name : names) {
    auto it = std::find_if(shards_.begin(), shards_.end(),
                           [&](const Shard& s) { return s.state.name == name; });
    if (it != shards_.end()) {
      next.push_back(*it);
    } else {
      Shard s;
      s.state.name = name;
      next.push_back(std::move(s));
    }
  }
  shards_ = std::move(next);
}

uint64_t Router::PollMark() const {
  absl::MutexLock lock(&mu_);
  return last_charge_;
}

void Router::Update(const ShardState& state, std::optional<uint64_t> mark) {
  absl::MutexLock lock(&mu_);
  const uint64_t reported = mark.value_or(last_charge_);
  for (Shard& s : shards_) {
    if (s.state.name != state.name) continue;
    s.state = state;
    // The shard's own figure now includes what we charged before the poll was sent.
    while (!s.unreported.empty() && s.unreported.front().number <= reported) {
      s.unreported_tokens -= s.unreported.front().tokens;
      s.unreported.pop_front();
    }
  }
}

absl::StatusOr<Assignment> Router::Pick(const std::string& model, uint64_t prefix_hash,
                                         int64_t tokens, absl::Span<const std::string> exclude) {
  absl::MutexLock lock(&mu_);
  bool served_anywhere = false;
  std::vector<Shard*> candidates;
  for (Shard& s : shards_) {
    if (!s.state.models.contains(model)) continue;
    served_anywhere = true;
    if (!s.state.healthy) continue;
    if (std::find(exclude.begin(), exclude.end(), s.state.name) != exclude.end()) continue;
    candidates.push_back(&s);
  }
  if (candidates.empty()) {
    if (!served_anywhere) {
      return absl::NotFoundError(absl::StrCat("no shard serves model '", model, "'"));
    }
    return absl::UnavailableError(
        absl::StrCat("no healthy shard serving model '", model, "' is available"));
  }
  auto load = [](const Shard* s) { return s->state.reported_outstanding + s->unreported_tokens; };
  Shard* best = *std::min_element(candidates.begin(), candidates.end(),
                                  [&](const Shard* a, const Shard* b) { return load(a) < load(b); });
  if (auto it = affinity_.find(prefix_hash); it != affinity_.end()) {
    for (Shard* s : candidates) {
      if (s->state.name == it->second && load(s) <= load(best) + options_.affinity_slack) {
        best = s;
        break;
      }
    }
  }
  const Charge charge{++last_charge_, tokens};
  best->unreported.push_back(charge);
  best->unreported_tokens += tokens;
  if (affinity_.size() >= options_.max_affinity_entries) affinity_.clear();
  affinity_[prefix_hash] = best->state.name;
  return Assignment{best->state.name, charge.number};
}

void Router::Release(const Assignment& assignment) {
  absl::MutexLock lock(&mu_);
  for (Shard& s : shards_) {
    if (s.state.name != assignment.shard) continue;
    // Charges are numbered in order: a binary search finds it, if no report took it yet.
    auto it = std::lower_bound(
        s.unreported.begin(), s.unreported.end(), assignment.charge,
        [](const Charge& c, uint64_t number) { return c.number < number; });
    if (it != s.unreported.end() && it->number == assignment.charge) {
      s.unreported_tokens -= it->tokens;
      s.unreported.erase(it);
    }
  }
}

std::vector<ShardState> Router::Snapshot() const {
  absl::MutexLock lock(&mu_);
  std::vector<ShardState> out;
  for (const Shard& s : shards_) out.push_back(s.state);
  return out;
}

std::vector<std::string> Router::ServedModels() const {
  absl::MutexLock lock(&mu_);
  absl::flat_hash_set<std::string> models;
  for (const Shard& s : shards_) {
    if (s.state.healthy) models.insert(s.state.models.begin(), s.state.models.end());
  }
  std::vector<std::string> out(models.begin(), models.end());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sllm::gateway
