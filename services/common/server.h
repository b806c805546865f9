// Server bootstrap shared by every sllm service: a gRPC server with the standard health service
// (grpc.health.v1) and server reflection, a Prometheus /metrics endpoint on its own port, and a
// graceful shutdown on SIGTERM / SIGINT.
//
//   ServiceRunner runner(ServerOptionsFromFlags());
//   TokenizerServiceImpl service(runner.registry());
//   runner.AddService(&service);
//   RETURN_IF_ERROR(runner.Start());
//   runner.SetServing("sllm.v1.TokenizerService", true);
//   runner.Wait();  // returns after a signal or Shutdown() has drained the server
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "services/common/tls_credentials.h"

namespace prometheus {
class Exposer;
}  // namespace prometheus

namespace sllm {

struct ServerOptions {
  // Interface the gRPC server listens on: "0.0.0.0" (all IPv4), "::" (all), "127.0.0.1", ...
  std::string host = "0.0.0.0";
  // gRPC port; 0 picks a free port (read it back with ServiceRunner::port()).
  int port = 0;
  // Interface of the Prometheus HTTP endpoint (GET /metrics).
  std::string metrics_host = "0.0.0.0";
  // Metrics port; 0 picks a free port (ServiceRunner::metrics_port()); -1 disables metrics.
  int metrics_port = 0;
  // On shutdown, how long in-flight RPCs may run before they are cancelled.
  absl::Duration drain_deadline = absl::Seconds(10);
  // Largest message the server receives or sends, in bytes.
  int max_message_bytes = 64 << 20;
  // Drain and stop on SIGTERM / SIGINT. At most one runner per process should set this.
  bool handle_signals = true;
  // TLS (and mTLS with a client CA) on the gRPC port; empty: plaintext. Bad files make Start()
  // fail with INVALID_ARGUMENT naming the setting and the file.
  ServerTlsOptions tls;
  // Called on the builder after the options above are applied and before the server is built,
  // for settings not covered here (channel arguments, resource quota, ...).
  std::function<void(grpc::ServerBuilder&)> configure_builder;
};

// Process-wide settings for a service binary: call first in main, before any thread starts.
// Turns abseil's Mutex deadlock detection off. Debian builds abseil without NDEBUG, which
// leaves it on, and then every Mutex operation (gRPC takes several per message) updates one
// lock graph under one global lock.
void ConfigureServerProcess();

// Runs one gRPC server and its metrics endpoint for the life of a service process.
// Thread-safe after Start(), except that AddService() must precede Start().
class ServiceRunner {
 public:
  explicit ServiceRunner(ServerOptions options = {});
  // Shuts down (draining for at most the drain deadline) if still running, then waits.
  ~ServiceRunner();

  ServiceRunner(const ServiceRunner&) = delete;
  ServiceRunner& operator=(const ServiceRunner&) = delete;

  // Registers a service (sync or callback API). Not owned: it must outlive the runner. Only
  // before Start().
  void AddService(grpc::Service* service);

  // The registry exposed on the metrics port. Services register their metrics here, before or
  // after Start().
  prometheus::Registry& registry() { return *registry_; }
  const std::shared_ptr<prometheus::Registry>& shared_registry() const { return registry_; }

  // Starts the metrics endpoint, then builds and starts the gRPC server, and begins watching
  // for shutdown. UNAVAILABLE when a port cannot be bound, INVALID_ARGUMENT when the TLS files
  // are bad. Call once.
  absl::Status Start();

  // The bound gRPC port (after Start()).
  int port() const { return port_; }
  // The bound metrics port, or -1 when metrics are disabled (after Start()).
  int metrics_port() const { return metrics_port_; }
  // An address a client on this machine can dial, e.g. "127.0.0.1:50051" (after Start()).
  std::string local_target() const;

  // Sets the health of `service` (a full service name; "" is the whole server) as reported by
  // grpc.health.v1.Health. Before Start() the value is kept and applied at start. Ignored once
  // shutdown has begun (everything is then NOT_SERVING).
  // A named service's status is also exported as the gauge sllm_service_serving{service} (1 or
  // 0; every one turns 0 when the drain begins), so that alerts see readiness.
  void SetServing(const std::string& service, bool serving);

  // Begins the graceful shutdown from any thread (not from a signal handler) and returns at
  // once: health turns NOT_SERVING, the server stops accepting calls, in-flight calls get the
  // drain deadline and are then cancelled. Idempotent.
  void Shutdown();

  // Serves /metrics now, before Start() (which then keeps it): a process with a long start
  // (a worker loading its weights) can be scraped meanwhile, so a "down" alert on `up == 0`
  // does not fire while it loads. UNAVAILABLE when the port cannot be bound; a no-op when
  // metrics are disabled or already served.
  absl::Status ServeMetricsEarly();

  // Blocks until the server has been shut down (by Shutdown() or a signal) and drained.
  // Returns at once when Start() never succeeded.
  void Wait();

  // True once shutdown has begun.
  bool draining() const;

  // Runs `hook` when the drain begins, after health turns NOT_SERVING and before the server
  // waits for its in-flight calls (so a service can end long-lived calls that have nothing
  // left to do). Only before Start().
  void OnDrain(std::function<void()> hook);

  // The server, after a successful Start().
  grpc::Server* server() const { return server_.get(); }

 private:
  absl::Status StartMetrics();
  absl::Status StartServer(std::shared_ptr<grpc::ServerCredentials> credentials);
  void WatchForShutdown();
  void Drain(int signal_number);

  const ServerOptions options_;
  const std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& serving_gauge_;  // sllm_service_serving{service}
  std::vector<grpc::Service*> services_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int metrics_port_ = -1;
  int wake_read_fd_ = -1;   // Shutdown() writes to wake_write_fd_ to wake the watcher.
  int wake_write_fd_ = -1;
  int signal_fd_ = -1;      // Readable when SIGTERM / SIGINT arrived (handle_signals only).
  std::thread watcher_;     // Waits for Shutdown() or a signal, then drains the server.

  mutable std::mutex mu_;
  bool started_ = false;                // Guarded by mu_.
  bool draining_ = false;               // Guarded by mu_.
  std::map<std::string, bool> health_;  // Guarded by mu_: statuses set before Start().
  std::vector<std::function<void()>> drain_hooks_;  // Set before Start().

  std::mutex wait_mu_;  // Serializes Wait() callers.
};

}  // namespace sllm
