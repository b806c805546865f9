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
#include "gateway/routing/router.h"
#include "gateway/validation/request_validator.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway {

class ShardPool {
 public:
  // `targets`: worker addresses ("host:port"). Polls every `interval`.
  ShardPool(std::vector<std::string> targets, absl::Duration interval = absl::Milliseconds(200));
  ~ShardPool();

  // Polls every shard once now (GetInfo + GetLoad), then keeps polling in the background.
  void Start();
  void Stop();
  // Polls every shard once (also what the background loop does).
  void PollOnce();

  Router& router() { return router_; }
  v1::WorkerService::Stub* stub(const std::string& shard);
  // Limits of every model served by a healthy shard.
  std::vector<ModelInfo> Models() const;

 private:
  struct Shard {
    std::string target;
    std::unique_ptr<v1::WorkerService::Stub> stub;
  };
  std::vector<Shard> shards_;
  Router router_;
  const absl::Duration interval_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, ModelInfo> models_;  // Guarded by mu_.
  bool stop_ = false;                         // Guarded by mu_.
  std::thread poller_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_CORE_SHARD_POOL_H_
