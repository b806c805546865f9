// Graceful shutdown of ServiceRunner: draining in-flight calls, the drain deadline, signals.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "services/common/server.h"
#include "services/common/test_util.h"
#include "sllm/v1/tokenizer.grpc.pb.h"

namespace sllm {
namespace {

using sllm::v1::ListTokenizerModelsRequest;
using sllm::v1::ListTokenizerModelsResponse;

// A unary call the test finishes by hand; cancellation (client, or the drain deadline) also
// finishes it.
class HeldCall : public grpc::ServerUnaryReactor {
 public:
  void FinishOnce(const grpc::Status& status) {
    if (!finished_.exchange(true)) Finish(status);
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override {}

 private:
  std::atomic<bool> finished_{false};
};

// ListModels calls are held until Release(). Owns its calls, so it must outlive the runner
// (whose shutdown waits for every call to be done).
class HoldingService : public sllm::v1::TokenizerService::CallbackService {
 public:
  grpc::ServerUnaryReactor* ListModels(grpc::CallbackServerContext* context,
                                       const ListTokenizerModelsRequest* request,
                                       ListTokenizerModelsResponse* response) override {
    response->add_models("held");
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(std::make_unique<HeldCall>());
    arrived_.set_value();
    return calls_.back().get();
  }

  std::future<void> arrived() { return arrived_.get_future(); }

  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& call : calls_) call->FinishOnce(grpc::Status::OK);
  }

 private:
  std::mutex mu_;
  std::promise<void> arrived_;
  std::vector<std::unique_ptr<HeldCall>> calls_;
};

// An asynchronous ListModels call whose final status can be waited for.
struct PendingCall {
  grpc::ClientContext context;
  ListTokenizerModelsRequest request;
  ListTokenizerModelsResponse response;
  std::promise<grpc::Status> done;

  explicit PendingCall(sllm::v1::TokenizerService::Stub& stub) {
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    stub.async()->ListModels(&context, &request, &response,
                             [this](grpc::Status status) { done.set_value(status); });
  }
};

ServerOptions LocalOptions(absl::Duration drain_deadline) {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.metrics_port = -1;
  options.handle_signals = false;
  options.drain_deadline = drain_deadline;
  return options;
}

TEST(ServiceRunnerDrainTest, InFlightCallsFinishDuringTheDrain) {
  HoldingService service;
  ServiceRunner runner(LocalOptions(absl::Seconds(60)));
  runner.AddService(&service);
  ASSERT_TRUE(runner.Start().ok());
  std::shared_ptr<grpc::Channel> channel = testing::InsecureChannel(runner.local_target());
  auto stub = sllm::v1::TokenizerService::NewStub(channel);
  std::future<void> arrived = service.arrived();
  PendingCall call(*stub);
  arrived.wait();

  // Watch health until shutdown reports NOT_SERVING, so the call is released mid-drain.
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext watch_context;
  grpc::health::v1::HealthCheckRequest watch_request;
  auto watch = health->Watch(&watch_context, watch_request);
  grpc::health::v1::HealthCheckResponse update;
  ASSERT_TRUE(watch->Read(&update));
  EXPECT_EQ(update.status(), grpc::health::v1::HealthCheckResponse::SERVING);

  runner.Shutdown();
  bool saw_not_serving = false;
  while (!saw_not_serving && watch->Read(&update)) {
    saw_not_serving = update.status() == grpc::health::v1::HealthCheckResponse::NOT_SERVING;
  }
  EXPECT_TRUE(saw_not_serving);
  watch_context.TryCancel();  // The watch is itself an in-flight call: end it.
  watch->Finish();

  service.Release();
  std::future<grpc::Status> done = call.done.get_future();
  const grpc::Status status = done.get();
  EXPECT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(call.response.models_size(), 1);
  EXPECT_EQ(call.response.models(0), "held");
  runner.Wait();
  EXPECT_TRUE(runner.draining());
}

TEST(ServiceRunnerDrainTest, DrainHooksRunBeforeTheServerWaitsForItsCalls) {
  HoldingService service;
  ServiceRunner runner(LocalOptions(absl::Seconds(600)));
  runner.AddService(&service);
  std::atomic<bool> hooked{false};
  // Ends the held call: the drain can only finish (before its deadline) once this ran.
  runner.OnDrain([&] {
    hooked = true;
    service.Release();
  });
  ASSERT_TRUE(runner.Start().ok());
  auto stub = sllm::v1::TokenizerService::NewStub(testing::InsecureChannel(runner.local_target()));
  std::future<void> arrived = service.arrived();
  PendingCall call(*stub);
  arrived.wait();
  runner.Shutdown();
  const grpc::Status status = call.done.get_future().get();
  EXPECT_TRUE(status.ok()) << status.error_message();  // Not cancelled by the deadline.
  runner.Wait();
  EXPECT_TRUE(hooked);
}

TEST(ServiceRunnerDrainTest, CallsStillRunningAtTheDeadlineAreCancelled) {
  HoldingService service;
  const absl::Duration deadline = absl::Milliseconds(200);
  ServiceRunner runner(LocalOptions(deadline));
  runner.AddService(&service);
  ASSERT_TRUE(runner.Start().ok());
  auto stub = sllm::v1::TokenizerService::NewStub(testing::InsecureChannel(runner.local_target()));
  std::future<void> arrived = service.arrived();
  PendingCall call(*stub);
  arrived.wait();

  const auto begin = std::chrono::steady_clock::now();
  runner.Shutdown();
  runner.Wait();  // The call is never released: only the deadline can end the drain.
  const auto elapsed = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(elapsed, absl::ToChronoMilliseconds(deadline) - std::chrono::milliseconds(5));
  const grpc::Status status = call.done.get_future().get();
  EXPECT_FALSE(status.ok());
}

TEST(ServiceRunnerDrainTest, SigtermStartsTheGracefulShutdown) {
  ServerOptions options = LocalOptions(absl::Seconds(5));
  options.handle_signals = true;
  ServiceRunner runner(options);
  ASSERT_TRUE(runner.Start().ok());
  ASSERT_EQ(raise(SIGTERM), 0);  // Handled: the process keeps running.
  runner.Wait();
  EXPECT_TRUE(runner.draining());
}

}  // namespace
}  // namespace sllm
