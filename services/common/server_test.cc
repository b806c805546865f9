#include "services/common/server.h"

#include <chrono>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "services/common/test_util.h"
#include "sllm/v1/tokenizer.grpc.pb.h"

namespace sllm {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

ServerOptions LocalOptions() { return testing::LocalServerOptions(); }

// Calls Health/Check; returns the status, and the serving status in `serving` when OK.
grpc::Status Check(Health::Stub& stub, const std::string& service,
                   HealthCheckResponse::ServingStatus* serving) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  HealthCheckRequest request;
  request.set_service(service);
  HealthCheckResponse response;
  grpc::Status status = stub.Check(&context, request, &response);
  *serving = response.status();
  return status;
}

// Expects Health/Check of `service` to succeed with `expected`.
void ExpectHealth(Health::Stub& stub, const std::string& service,
                  HealthCheckResponse::ServingStatus expected) {
  HealthCheckResponse::ServingStatus serving = HealthCheckResponse::UNKNOWN;
  grpc::Status status = Check(stub, service, &serving);
  ASSERT_TRUE(status.ok()) << service << ": " << status.error_message();
  EXPECT_EQ(serving, expected) << service;
}

// A registered application service, so that reflection has something of ours to describe.
class EmptyTokenizerService : public sllm::v1::TokenizerService::CallbackService {};

TEST(ServiceRunnerTest, HealthReflectionMetricsAndShutdown) {
  EmptyTokenizerService tokenizer;
  ServiceRunner runner(LocalOptions());
  runner.AddService(&tokenizer);
  prometheus::BuildCounter()
      .Name("sllm_test_events_total")
      .Help("Events seen by the test.")
      .Register(runner.registry())
      .Add({{"kind", "startup"}})
      .Increment();
  runner.SetServing("sllm.v1.TokenizerService", false);  // Before Start: applied at start.

  ASSERT_TRUE(runner.Start().ok());
  ASSERT_GT(runner.port(), 0);
  ASSERT_GT(runner.metrics_port(), 0);
  EXPECT_NE(runner.port(), runner.metrics_port());
  EXPECT_EQ(runner.local_target(), "127.0.0.1:" + std::to_string(runner.port()));

  std::shared_ptr<grpc::Channel> channel = testing::InsecureChannel(runner.local_target());
  std::unique_ptr<Health::Stub> health = Health::NewStub(channel);

  // Health: the server as a whole serves; per-service status follows SetServing.
  ExpectHealth(*health, "", HealthCheckResponse::SERVING);
  ExpectHealth(*health, "sllm.v1.TokenizerService", HealthCheckResponse::NOT_SERVING);
  runner.SetServing("sllm.v1.TokenizerService", true);
  ExpectHealth(*health, "sllm.v1.TokenizerService", HealthCheckResponse::SERVING);
  runner.SetServing("", false);
  ExpectHealth(*health, "", HealthCheckResponse::NOT_SERVING);
  runner.SetServing("", true);
  ExpectHealth(*health, "", HealthCheckResponse::SERVING);
  HealthCheckResponse::ServingStatus serving;
  EXPECT_EQ(Check(*health, "no.such.Service", &serving).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Reflection: lists the services and serves our proto files (what grpcurl needs).
  const std::string services = testing::ReflectionQuery(*channel, "list_services", "*");
  EXPECT_NE(services.find("\"grpc.health.v1.Health\""), std::string::npos) << services;
  EXPECT_NE(services.find("\"grpc.reflection.v1alpha.ServerReflection\""), std::string::npos)
      << services;
  EXPECT_NE(services.find("\"sllm.v1.TokenizerService\""), std::string::npos) << services;
  const std::string file = testing::ReflectionQuery(*channel, "file_containing_symbol",
                                                    "sllm.v1.TokenizerService");
  EXPECT_NE(file.find("sllm/v1/tokenizer.proto"), std::string::npos) << file;

  // Metrics: the registry is served in the Prometheus text format.
  const std::string scrape = testing::HttpGet(runner.metrics_port(), "/metrics");
  EXPECT_NE(scrape.find("200 OK"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("# TYPE sllm_test_events_total counter"), std::string::npos) << scrape;
  EXPECT_NE(scrape.find("sllm_test_events_total{kind=\"startup\"} 1"), std::string::npos)
      << scrape;
  // Health of each named service as a gauge: SetServing(true) above made it 1.
  EXPECT_NE(scrape.find("sllm_service_serving{service=\"sllm.v1.TokenizerService\"} 1"),
            std::string::npos)
      << scrape;
  runner.SetServing("sllm.v1.TokenizerService", false);
  EXPECT_NE(testing::HttpGet(runner.metrics_port(), "/metrics")
                .find("sllm_service_serving{service=\"sllm.v1.TokenizerService\"} 0"),
            std::string::npos);

  // Shutdown: Wait() returns, and the server no longer answers.
  EXPECT_FALSE(runner.draining());
  runner.Shutdown();
  runner.Wait();
  EXPECT_TRUE(runner.draining());
  EXPECT_FALSE(Check(*health, "", &serving).ok());
  runner.SetServing("", true);  // Ignored after shutdown; must not crash.
}

TEST(ServiceRunnerTest, MetricsCanBeDisabled) {
  ServerOptions options = LocalOptions();
  options.metrics_port = -1;
  ServiceRunner runner(options);
  ASSERT_TRUE(runner.Start().ok());
  EXPECT_GT(runner.port(), 0);
  EXPECT_EQ(runner.metrics_port(), -1);
  runner.Shutdown();
  runner.Wait();
}

// A worker loading its weights is scraped before its server starts: `up` stays 1.
TEST(ServiceRunnerTest, MetricsCanBeServedBeforeStart) {
  ServiceRunner runner(LocalOptions());
  prometheus::BuildGauge().Name("loading").Help("h").Register(runner.registry()).Add({}).Set(1);
  ASSERT_TRUE(runner.ServeMetricsEarly().ok());
  const int port = runner.metrics_port();
  ASSERT_GT(port, 0);
  EXPECT_NE(testing::HttpGet(port, "/metrics").find("loading 1"), std::string::npos);
  EXPECT_TRUE(runner.ServeMetricsEarly().ok());  // Already served: a no-op.
  ASSERT_TRUE(runner.Start().ok());
  EXPECT_EQ(runner.metrics_port(), port);  // Start keeps the same listener.
  EXPECT_NE(testing::HttpGet(port, "/metrics").find("loading 1"), std::string::npos);
  runner.Shutdown();
  runner.Wait();
}

TEST(ServiceRunnerTest, StartFailsOnAPortInUse) {
  ServiceRunner first(LocalOptions());
  ASSERT_TRUE(first.Start().ok());

  ServerOptions same_grpc_port = LocalOptions();
  same_grpc_port.port = first.port();
  ServiceRunner second(same_grpc_port);
  absl::Status status = second.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find(std::to_string(first.port())), std::string::npos) << status;
  second.Wait();  // Returns at once: never started.

  ServerOptions same_metrics_port = LocalOptions();
  same_metrics_port.metrics_port = first.metrics_port();
  ServiceRunner third(same_metrics_port);
  status = third.Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("metrics"), std::string::npos) << status;
}

TEST(ServiceRunnerTest, DestructorShutsDownARunningServer) {
  auto runner = std::make_unique<ServiceRunner>(LocalOptions());
  ASSERT_TRUE(runner->Start().ok());
  runner.reset();  // Must not hang.
}

TEST(ServiceRunnerTest, ShutdownBeforeStartPreventsStart) {
  ServiceRunner runner(LocalOptions());
  runner.Shutdown();
  EXPECT_EQ(runner.Start().code(), absl::StatusCode::kFailedPrecondition);
  runner.Wait();
}

}  // namespace
}  // namespace sllm
