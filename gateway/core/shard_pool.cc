#include "gateway/core/shard_pool.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "services/common/channel_args.h"

namespace sllm::gateway {

absl::StatusOr<std::vector<std::string>> ResolveTargets(const std::string& host_port) {
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == host_port.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a DNS shard target must be host:port, got '", host_port, "'"));
  }
  const std::string host = host_port.substr(0, colon), port = host_port.substr(colon + 1);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot resolve '", host_port, "': ", gai_strerror(rc)));
  }
  std::vector<std::string> out;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char ip[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, ip, sizeof(ip));
      out.push_back(absl::StrCat(ip, ":", port));
    } else if (a->ai_family == AF_INET6) {
      inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, ip,
                sizeof(ip));
      out.push_back(absl::StrCat("[", ip, "]:", port));
    }
  }
  freeaddrinfo(found);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ShardPool::ShardPool(ShardPoolOptions options) : options_(std::move(options)) {
  SetTargets(options_.targets);
}

ShardPool::ShardPool(std::vector<std::string> targets, absl::Duration interval)
    : ShardPool(ShardPoolOptions{.targets = std::move(targets), .poll_interval = interval}) {}

ShardPool::~ShardPool() { Stop(); }

void ShardPool::SetTargets(const std::vector<std::string>& targets) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::map<std::string, Shard> next;
    for (const std::string& t : targets) {
      auto it = shards_.find(t);
      next[t] = it != shards_.end()
                    ? it->second
                    : Shard{std::shared_ptr<v1::WorkerService::Stub>(v1::WorkerService::NewStub(
                                options_.security.CreateChannel(t, InternalChannelArguments()))),
                            nullptr};
    }
    shards_ = std::move(next);
  }
  router_.SetShards(targets);
}

void ShardPool::MaybeResolve() {
  if (options_.dns_target.empty() || absl::Now() < next_resolve_) return;
  next_resolve_ = absl::Now() + options_.dns_interval;
  auto resolved = ResolveTargets(options_.dns_target);
  if (!resolved.ok()) {
    // Keep the shards we know: a DNS hiccup must not empty the pool.
    LOG_EVERY_N(WARNING, 10) << resolved.status();
    return;
  }
  if (*resolved != targets()) SetTargets(*resolved);
}

std::shared_ptr<v1::WorkerService::Stub> ShardPool::stub(const std::string& shard) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shards_.find(shard);
  return it == shards_.end() ? nullptr : it->second.stub;
}

std::shared_ptr<WorkerMux> ShardPool::mux(const std::string& shard) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shards_.find(shard);
  return it == shards_.end() ? nullptr : it->second.mux;
}

void ShardPool::SetMux(const std::string& target,
                       const std::shared_ptr<v1::WorkerService::Stub>& stub, bool serves) {
  std::shared_ptr<WorkerMux> dropped;  // Destroyed (waiting for its calls) outside the lock.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = shards_.find(target);
  if (it == shards_.end() || it->second.stub != stub) return;  // Dropped or replaced.
  if (serves && it->second.mux == nullptr) it->second.mux = std::make_shared<WorkerMux>(stub);
  if (!serves) dropped = std::move(it->second.mux);
}

std::vector<std::string> ShardPool::targets() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [t, shard] : shards_) out.push_back(t);
  return out;
}

void ShardPool::PollOnce() {
  std::lock_guard<std::mutex> poll_lock(poll_mu_);
  MaybeResolve();
  std::map<std::string, ModelInfo> models;
  std::map<std::string, std::shared_ptr<v1::WorkerService::Stub>> shards;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [target, shard] : shards_) shards[target] = shard.stub;
  }
  for (const auto& [target, stub_ptr] : shards) {
    ShardState state;
    state.name = target;
    grpc::ClientContext info_ctx;
    info_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    v1::GetWorkerInfoResponse info;
    grpc::ClientContext load_ctx;
    load_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    v1::GetLoadResponse load;
    grpc::Status st = stub_ptr->GetInfo(&info_ctx, {}, &info);
    // The load answer includes the requests picked for this shard before it was asked.
    const uint64_t mark = router_.PollMark();
    if (st.ok()) st = stub_ptr->GetLoad(&load_ctx, {}, &load);
    // A shard that answers late (a loaded machine) keeps its last known state for a few
    // polls; one that refuses connections or says it is not ready is out at once.
    if (st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED &&
        ++slow_polls_[target] < kSlowPollsBeforeDown) {
      for (const ModelInfo& m : last_models_[target]) models.emplace(m.name, m);
      continue;
    }
    if (st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) slow_polls_[target] = 0;
    std::vector<ModelInfo>& known = last_models_[target];
    known.clear();
    if (st.ok()) SetMux(target, stub_ptr, options_.generate_streams && info.generate_streams());
    if (st.ok() && load.ready()) {
      state.healthy = true;
      for (const auto& m : info.models()) {
        state.models.insert(m.name());
        ModelInfo mi{m.name(), m.max_context_length(), m.vocab_size()};
        models.emplace(m.name(), mi);
        known.push_back(mi);
      }
      // Work left: waiting and running sequences, weighted by a typical request size.
      state.reported_outstanding =
          static_cast<int64_t>(load.total().outstanding_tokens()) +
          256 * static_cast<int64_t>(load.total().running() + load.total().waiting());
    }
    router_.Update(state, mark);
  }
  std::lock_guard<std::mutex> lock(mu_);
  models_ = std::move(models);
}

void ShardPool::Start() {
  PollOnce();
  poller_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval),
                   [this] { return stop_; });
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
