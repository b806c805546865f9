#include "gateway/server/gateway_server.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "glog/logging.h"
#include "grpcpp/grpcpp.h"
#include "services/common/channel_args.h"

namespace sllm::gateway {
namespace {

ShardPoolOptions WithSecurity(ShardPoolOptions shards, const ChannelSecurity& security) {
  shards.security = security;
  return shards;
}

}  // namespace

GatewayServer::GatewayServer(GatewayServerOptions options)
    : options_(std::move(options)),
      runner_(options_.grpc),
      metrics_(runner_.registry()),
      shards_(WithSecurity(options_.shards, options_.upstream)),
      pipeline_(options_.upstream.CreateChannel(options_.tokenizer_target,
                                                InternalChannelArguments()),
                shards_, options_.limits, &metrics_),
      auth_(options_.api_keys, options_.api_key_limits),
      grpc_service_(pipeline_, runner_.registry(), metrics_, &auth_) {
  runner_.OnDrain([this] { drain_started_nanos_ = absl::ToUnixNanos(absl::Now()); });
  if (options_.http.port >= 0) {
    openai_ = std::make_unique<OpenAiService>(
        pipeline_, metrics_, runner_.registry(), [this] { return !runner_.draining(); },
        options_.openai, &auth_);
    http_ = std::make_unique<http::HttpServer>(
        options_.http, [this](std::shared_ptr<http::HttpExchange> ex) {
          openai_->Handle(std::move(ex));
        });
  }
}

GatewayServer::~GatewayServer() {
  Shutdown();
  Wait();
}

absl::Status GatewayServer::Start() {
  shards_.Start();
  runner_.AddService(&grpc_service_);
  if (absl::Status st = runner_.Start(); !st.ok()) return st;
  if (http_) {
    if (absl::Status st = http_->Start(); !st.ok()) {
      runner_.Shutdown();
      return st;
    }
  }
  runner_.SetServing("", true);
  runner_.SetServing(v1::Generation::service_full_name(), true);
  return absl::OkStatus();
}

void GatewayServer::Wait() {
  if (waited_) return;
  waited_ = true;
  runner_.Wait();  // gRPC drained (HTTP meanwhile refuses new generations: not ready).
  if (http_) {
    // HTTP streams ran on during the gRPC drain: they get what is left of the same deadline,
    // not a second one.
    const int64_t started = drain_started_nanos_.load();
    const absl::Time end =
        (started != 0 ? absl::FromUnixNanos(started) : absl::Now()) + options_.grpc.drain_deadline;
    http_->Shutdown(std::max(absl::ZeroDuration(), end - absl::Now()));
  }
  openai_.reset();  // Waits for generation threads (their clients are gone by now).
  shards_.Stop();
}

void GatewayServer::Shutdown() { runner_.Shutdown(); }

}  // namespace sllm::gateway
