// Which worker shard gets a request: among the healthy shards that serve the model, the one
// with the least outstanding work; when several are within `affinity_slack` tokens of the
// least loaded, the one that last served the same prompt prefix (its KV blocks may still be
// in that shard's prefix cache). Pure policy: the shard states come from polling.
#ifndef SLLM_GATEWAY_ROUTING_ROUTER_H_
#define SLLM_GATEWAY_ROUTING_ROUTER_H_

#include <cstdint>
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

class Router {
 public:
  explicit Router(RouterOptions options = {}) : options_(options) {}

  // Replaces the shard list (from flags or DNS); states of known shards are kept.
  void SetShards(const std::vector<std::string>& names);
  // Updates one shard from a health check / GetInfo / GetLoad poll.
  void Update(const ShardState& state);

  // Picks a shard for `model` and charges it `tokens` of outstanding work until Release().
  // `exclude`: shards already tried for this request. UNAVAILABLE when no healthy shard serves
  // the model (NOT_FOUND when no shard serves it at all).
  absl::StatusOr<std::string> Pick(const std::string& model, uint64_t prefix_hash, int64_t tokens,
                                   absl::Span<const std::string> exclude = {});
  // Returns the work charged by Pick once the request is done (or failed).
  void Release(const std::string& shard, int64_t tokens);

  std::vector<ShardState> Snapshot() const;
  // Models served by at least one healthy shard.
  std::vector<std::string> ServedModels() const;

 private:
  struct Shard {
    ShardState state;
    int64_t local_outstanding = 0;  // Charged by this gateway since the last poll.
  };
  const RouterOptions options_;
  mutable absl::Mutex mu_;
  std::vector<Shard> shards_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, std::string> affinity_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_ROUTING_ROUTER_H_
