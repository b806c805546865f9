// The worker shards the gateway knows: a channel and stub per shard, and a poller that keeps
// the router's view (health, models, load) and the served models' limits current.
#ifndef SLLM_GATEWAY_CORE_SHARD_POOL_H_
#define SLLM_GATEWAY_CORE_SHARD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "gateway/core/worker_mux.h"
#include "gateway/routing/router.h"
#include "gateway/validation/request_validator.h"
#include "services/common/tls_credentials.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway {

struct ShardPoolOptions {
  // Worker addresses ("host:port").
  std::vector<std::string> targets;
  // Or a DNS name ("host:port", e.g. a Kubernetes headless Service) whose addresses are the
  // shards, re-resolved every `dns_interval`; shards that vanish from it are dropped.
  std::string dns_target;
  absl::Duration dns_interval = absl::Seconds(5);
  // How often every shard is polled (GetInfo + GetLoad).
  absl::Duration poll_interval = absl::Milliseconds(200);
  // Plaintext or TLS (mTLS with a client certificate) to the shards.
  ChannelSecurity security;
  // Run requests as sequences on one GenerateStreams call per shard (WorkerMux) when the shard
  // serves it; false: a Generate call per request.
  bool generate_streams = true;
};

// Every address `host:port` resolves to, as "a.b.c.d:port" / "[v6]:port", sorted.
absl::StatusOr<std::vector<std::string>> ResolveTargets(const std::string& host_port);

class ShardPool {
 public:
  explicit ShardPool(ShardPoolOptions options);
  // `targets`: worker addresses ("host:port"). Polls every `interval`.
  ShardPool(std::vector<std::string> targets, absl::Duration interval = absl::Milliseconds(200));
  ~ShardPool();

  // Polls every shard once now (GetInfo + GetLoad), then keeps polling in the background.
  void Start();
  void Stop();
  // Polls every shard once (also what the background loop does). A shard that does not answer
  // within 1 s keeps its last state until that happens kSlowPollsBeforeDown times in a row.
  void PollOnce();

  Router& router() { return router_; }
  // The stub of `shard`, or null when it is no longer known (dropped from DNS).
  std::shared_ptr<v1::WorkerService::Stub> stub(const std::string& shard) const;
  // The shard's GenerateStreams calls, or null when it does not serve them (or they are
  // turned off, or the shard is unknown): then use stub().
  std::shared_ptr<WorkerMux> mux(const std::string& shard) const;
  // The shard addresses known now.
  std::vector<std::string> targets() const;
  // Limits of every model served by a healthy shard.
  std::vector<ModelInfo> Models() const;

 private:
  // Makes the shard set `targets` (keeping the stubs of known shards).
  void SetTargets(const std::vector<std::string>& targets);
  void MaybeResolve();
  // Makes the shard's WorkerMux exist when it `serves` GenerateStreams (and not otherwise).
  void SetMux(const std::string& target, const std::shared_ptr<v1::WorkerService::Stub>& stub,
              bool serves);

  const ShardPoolOptions options_;
  Router router_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  struct Shard {
    std::shared_ptr<v1::WorkerService::Stub> stub;
    std::shared_ptr<WorkerMux> mux;  // Once GetInfo said it serves GenerateStreams.
  };
  std::map<std::string, Shard> shards_;  // Guarded by mu_: by address.
  std::map<std::string, ModelInfo> models_;  // Guarded by mu_.
  absl::Time next_resolve_ = absl::InfinitePast();  // Poller thread only.
  // Polls in a row that timed out, and the models each shard last reported; guarded by
  // poll_mu_ (one PollOnce at a time).
  static constexpr int kSlowPollsBeforeDown = 3;
  std::mutex poll_mu_;
  std::map<std::string, int> slow_polls_;
  std::map<std::string, std::vector<ModelInfo>> last_models_;
  bool stop_ = false;                         // Guarded by mu_.
  std::thread poller_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_SHARD_POOL_H_
