// For tests: the gateway's backends in this process, on loopback ports picked by the kernel —
// a tokenizer service and N worker shards serving the bundled stories260K model.
#ifndef SLLM_GATEWAY_SERVER_LOCAL_BACKENDS_H_
#define SLLM_GATEWAY_SERVER_LOCAL_BACKENDS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "gateway/server/gateway_server.h"
#include "services/common/server.h"
#include "services/tokenizer/service/tokenizer_service.h"
#include "services/worker/engine/engine.h"
#include "services/worker/service/worker_service.h"

namespace sllm::gateway {

class LocalBackends {
 public:
  LocalBackends() = default;
  ~LocalBackends();

  // `engine` configures every shard's engine (threads, batch and queue sizes). `tls`: the
  // backends' gRPC ports serve TLS (mTLS with a client CA) instead of plaintext.
  absl::Status Start(int workers, const worker::EngineOptions& engine,
                     const ServerTlsOptions& tls = {});

  std::string tokenizer_target() const { return tokenizer_runner_->local_target(); }
  std::vector<std::string> worker_targets() const;
  worker::Engine& engine(int shard) { return *shards_[shard]->served.engine; }
  int worker_port(int shard) const { return shards_[shard]->runner->port(); }
  // Stops one shard's server and engine (a shard going down).
  void StopWorker(int shard);
  // Options for a gateway in front of these backends, all on loopback (HTTP on a free port),
  // dialing them in plaintext (set `upstream` for TLS).
  GatewayServerOptions GatewayOptions() const;

 private:
  struct Shard {
    std::unique_ptr<ServiceRunner> runner;
    worker::ServedEngine served;
    std::unique_ptr<worker::WorkerServiceImpl> service;
    bool stopped = false;
  };
  std::unique_ptr<tokenizer::TokenizerCore> tokenizer_core_;
  std::unique_ptr<ServiceRunner> tokenizer_runner_;
  std::unique_ptr<tokenizer::TokenizerServiceImpl> tokenizer_service_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace sllm::gateway

#endif  // SLLM_GATEWAY_SERVER_LOCAL_BACKENDS_H_
