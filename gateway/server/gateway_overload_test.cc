// A shard whose batch and queue are full, behind the gateway's two fronts.
#include <atomic>
#include <chrono>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/synchronization/notification.h"
#include "gateway/server/gateway_server.h"
#include "gateway/server/local_backends.h"
#include "gateway/server/test_http_client.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "services/common/test_util.h"
#include "sllm/v1/generation.grpc.pb.h"
#include "sllm/v1/worker.grpc.pb.h"

namespace sllm::gateway {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using testing::Http;
using testing::HttpResult;

// A shard whose batch and queue are full: requests are refused with 429 and a retry hint.
TEST(GatewayOverloadTest, FullShardsGive429WithRetryAfter) {
  // Once the running request has streamed a token, the engine holds after its next step until
  // released, so the shard stays full however fast the machine (on a quick one the running
  // request's 500 tokens could end while the test's own requests travel). Declared before the
  // backends: their engine thread may wait on these until the end.
  std::atomic<bool> hold{false};
  absl::Notification release;
  LocalBackends backends;
  worker::EngineOptions engine;
  engine.num_threads = 1;
  engine.scheduler.max_num_seqs = 1;
  engine.scheduler.max_waiting = 1;
  engine.on_step = [&hold, &release](const worker::StepStats&) {
    if (hold.load()) release.WaitForNotification();
  };
  ASSERT_TRUE(backends.Start(1, engine).ok());
  absl::Cleanup resume = [&release] {  // Before the backends stop, whatever failed.
    if (!release.HasBeenNotified()) release.Notify();
  };
  GatewayServer gateway(backends.GatewayOptions());
  ASSERT_TRUE(gateway.Start().ok());
  // Fill the shard: one long sequence running, one waiting.
  auto worker = v1::WorkerService::NewStub(testing::InsecureChannel(backends.worker_targets()[0]));
  v1::WorkerGenerateRequest long_request;
  long_request.set_model("stories260K");
  long_request.add_prompt_ids(1);
  long_request.mutable_stopping()->set_max_new_tokens(500);
  long_request.mutable_stopping()->set_ignore_eos(true);
  grpc::ClientContext running_ctx, waiting_ctx;
  auto running = worker->Generate(&running_ctx, long_request);
  v1::WorkerGenerateResponse first;
  ASSERT_TRUE(running->Read(&first));
  hold = true;
  auto waiting = worker->Generate(&waiting_ctx, long_request);
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (backends.engine(0).load().waiting == 0 && Clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_EQ(backends.engine(0).load().waiting, 1);
  HttpResult r = Http(gateway.http_port(), "POST", "/v1/completions",
                      json{{"model", "stories260K"}, {"prompt", "Once"}, {"max_tokens", 3}}.dump());
  EXPECT_EQ(r.status, 429) << r.body;
  EXPECT_EQ(r.retry_after, "1");
  json e = json::parse(r.body)["error"];
  EXPECT_EQ(e["type"], "rate_limit_error");
  EXPECT_NE(e["message"].get<std::string>().find("every shard serving 'stories260K' is at capacity"),
            std::string::npos)
      << e;
  auto stub = v1::Generation::NewStub(testing::InsecureChannel(gateway.grpc_target()));
  grpc::ClientContext ctx;
  v1::GenerateRequest g;
  g.set_model("stories260K");
  g.set_text("Once");
  v1::GenerateResponse resp;
  EXPECT_EQ(stub->Generate(&ctx, g, &resp).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto trailer = ctx.GetServerTrailingMetadata().find("retry-after");
  ASSERT_NE(trailer, ctx.GetServerTrailingMetadata().end());
  EXPECT_EQ(std::string(trailer->second.data(), trailer->second.size()), "1");
  std::move(resume).Invoke();
  running_ctx.TryCancel();
  waiting_ctx.TryCancel();
  while (running->Read(&first)) {
  }
  running->Finish();
  while (waiting->Read(&first)) {
  }
  waiting->Finish();
}

}  // namespace
}  // namespace sllm::gateway
