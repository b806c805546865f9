#include "gateway/core/shard_pool.h"

#include <chrono>

#include "grpcpp/grpcpp.h"

namespace sllm::gateway {

ShardPool::ShardPool(std::vector<std::string> targets, absl::Duration interval)
    : interval_(interval) {
  for (const std::string& t : targets) {
    auto channel = grpc::CreateChannel(t, grpc::InsecureChannelCredentials());
    shards_.push_back({t, v1::WorkerService::NewStub(channel)});
  }
  router_.SetShards(targets);
}

ShardPool::~ShardPool() { Stop(); }

v1::WorkerService::Stub* ShardPool::stub(const std::string& shard) {
  for (Shard& s : shards_) {
    if (s.target == shard) return s.stub.get();
  }
  return nullptr;
}

void ShardPool::PollOnce() {
  std::map<std::string, ModelInfo> models;
  for (Shard& s : shards_) {
    ShardState state;
    state.name = s.target;
    grpc::ClientContext info_ctx;
    info_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    v1::GetWorkerInfoResponse info;
    grpc::ClientContext load_ctx;
    load_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    v1::GetLoadResponse load;
    if (s.stub->GetInfo(&info_ctx, {}, &info).ok() &&
        s.stub->GetLoad(&load_ctx, {}, &load).ok() && load.ready()) {
      state.healthy = true;
      for (const auto& m : info.models()) {
        state.models.insert(m.name());
        ModelInfo mi{m.name(), m.max_context_length(), m.vocab_size()};
        models.emplace(m.name(), mi);
      }
      // Work left: waiting and running sequences, weighted by a typical request size.
      state.reported_outstanding =
          static_cast<int64_t>(load.total().outstanding_tokens()) +
          256 * static_cast<int64_t>(load.total().running() + load.total().waiting());
    }
    router_.Update(state);
  }
  std::lock_guard<std::mutex> lock(mu_);
  models_ = std::move(models);
}

void ShardPool::Start() {
  PollOnce();
  poller_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, absl::ToChronoMilliseconds(interval_), [this] { return stop_; });
      if (stop_) break;
      lock.unlock();
      PollOnce();
      lock.lock();
    }
  });
}

void ShardPool::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (poller_.joinable()) poller_.join();
}

std::vector<ModelInfo> ShardPool::Models() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelInfo> out;
  for (const auto& [name, info] : models_) out.push_back(info);
  return out;
}

}  // namespace sllm::gateway
