#include "gateway/server/local_backends.h"

#include "services/common/status_macros.h"
#include "services/common/test_util.h"

namespace sllm::gateway {
namespace {

const std::string kModelDir = std::string(SLLM_MODELS_DIR) + "/stories260K";

}  // namespace

GatewayServerOptions LocalBackends::GatewayOptions() const {
  GatewayServerOptions o;
  o.grpc = testing::LocalServerOptions();
  o.tokenizer_target = tokenizer_target();
  o.shards.targets = worker_targets();
  o.http.host = "127.0.0.1";
  o.http.port = 0;
  return o;
}

LocalBackends::~LocalBackends() {
  for (int i = 0; i < static_cast<int>(shards_.size()); ++i) StopWorker(i);
  if (tokenizer_runner_) {
    tokenizer_runner_->Shutdown();
    tokenizer_runner_->Wait();
  }
}

absl::Status LocalBackends::Start(int workers, const worker::EngineOptions& engine,
                                  const ServerTlsOptions& tls) {
  ServerOptions server = testing::LocalServerOptions();
  server.tls = tls;
  ASSIGN_OR_RETURN(tokenizer_core_, tokenizer::TokenizerCore::Load({{"stories260K", kModelDir}}));
  tokenizer_runner_ = std::make_unique<ServiceRunner>(server);
  tokenizer_service_ = std::make_unique<tokenizer::TokenizerServiceImpl>(
      *tokenizer_core_, tokenizer_runner_->registry());
  tokenizer_runner_->AddService(tokenizer_service_.get());
  RETURN_IF_ERROR(tokenizer_runner_->Start());
  for (int i = 0; i < workers; ++i) {
    auto shard = std::make_unique<Shard>();
    shard->runner = std::make_unique<ServiceRunner>(server);
    shard->served.name = "stories260K";
    ASSIGN_OR_RETURN(shard->served.engine, worker::Engine::Create(kModelDir, engine));
    RETURN_IF_ERROR(shard->served.engine->WarmUp());
    shard->served.engine->Start();
    shard->service = std::make_unique<worker::WorkerServiceImpl>(
        i, "local", std::map<std::string, worker::ServedEngine*>{{"stories260K", &shard->served}});
    shard->service->set_ready(true);
    shard->runner->AddService(shard->service.get());
    RETURN_IF_ERROR(shard->runner->Start());
    shards_.push_back(std::move(shard));
  }
  return absl::OkStatus();
}

std::vector<std::string> LocalBackends::worker_targets() const {
  std::vector<std::string> out;
  for (const auto& s : shards_) out.push_back(s->runner->local_target());
  return out;
}

void LocalBackends::StopWorker(int shard) {
  Shard& s = *shards_[shard];
  if (s.stopped) return;
  s.stopped = true;
  s.runner->Shutdown();
  s.runner->Wait();
  s.served.engine->Stop();
}

}  // namespace sllm::gateway
