// Which worker shard gets a request: among the healthy shards that serve the model, the one
// with the least outstanding work; when several are within `affinity_slack` tokens of the
// least loaded, the one that last served the same prompt prefix (its KV blocks may still be
// in that shard's prefix cache). Pure policy: the shard states come from polling.
//
// A shard's load is what it last reported plus the work this gateway sent it that the report
// cannot include yet: each pick is a charge numbered in order, and a report that answers a poll
// started after charge n replaces charges 1..n only. Charges made while a poll is in flight stay
// until the next one, so a burst of requests is spread even when a poll lands in the middle.
#ifndef SLLM_GATEWAY_ROUTING_ROUTER_H_
#define SLLM_GATEWAY_ROUTING_ROUTER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"

namespace sllm::gateway {

struct ShardState {
  std::string name;  // Address, e.g. "10.0.0.7:50061".
  bool healthy = false;
  absl::flat_hash_set<std::string> models;
  // Outstanding tokens the shard reported (prompt still to prefill + tokens still to generate).
  int64_t reported_outstanding = 0;
};

struct RouterOptions {
  // Loads within this many tokens of the least loaded count as "close".
  int64_t affinity_slack = 256;
  // Prefixes remembered for affinity.
  size_t max_affinity_entries = 65536;
};

// A pick: the shard, and the charge to hand back to Release once the request is done.
struct Assignment {
  std::string shard;
  uint64_t charge = 0;  // Sequence number of the charge.
};

class Router {
 public:
  explicit Router(RouterOptions options = {}) : options_(options) {}

  // Replaces the shard list (from flags or DNS); states of known shards are kept.
  void SetShards(const std::vector<std::string>& names);
  // The number of the last charge made: take it just before asking a shard for its load.
  uint64_t PollMark() const;
  // Updates one shard from a health check / GetInfo / GetLoad poll whose load request was sent
  // after charge `mark` (default: after every charge so far).
  void Update(const ShardState& state, std::optional<uint64_t> mark = std::nullopt);

  // Picks a shard for `model` and charges it `tokens` of outstanding work until Release() or
  // until a poll reports it. `exclude`: shards already tried for this request. UNAVAILABLE
  // when no healthy shard serves the model (NOT_FOUND when no shard serves it at all).
  absl::StatusOr<Assignment> Pick(const std::string& model, uint64_t prefix_hash, int64_t tokens,
                                  absl::Span<const std::string> exclude = {});
  // Returns the charge of a pick once the request is done (or failed); nothing when a poll
  // already reported it (the shard's next report no longer includes it either).
  void Release(const Assignment& assignment);

  std::vector<ShardState> Snapshot() const;
  // Models served by at least one healthy shard.
  std::vector<std::string> ServedModels() const;

 private:
  struct Charge {
    uint64_t number;
    int64_t tokens;
  };
  struct Shard {
    ShardState state;
    // Charges no report has included yet, oldest first, and their sum.
    std::deque<Charge> unreported;
    int64_t unreported_tokens = 0;
  };
  const RouterOptions options_;
  mutable absl::Mutex mu_;
  uint64_t last_charge_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Shard> shards_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::string> affinity_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_ROUTING_ROUTER_H_
