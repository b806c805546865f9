#include "services/common/server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <exception>
#include <future>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "glog/logging.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "prometheus/exposer.h"
#include "services/common/shutdown_signals.h"
#include "services/common/status_macros.h"

namespace sllm {
namespace {

// "host:port", with an IPv6 literal host in brackets.
std::string JoinHostPort(const std::string& host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos && host.front() != '[';
  return ipv6 ? absl::StrCat("[", host, "]:", port) : absl::StrCat(host, ":", port);
}

// Where a local client reaches a server bound to `host`.
std::string LocalHost(const std::string& host) {
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "::" || host == "[::]") return "::1";
  return host;
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Opens and closes one TCP connection to host:port, ignoring failures.
void Poke(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &addresses) != 0) return;
  for (addrinfo* a = addresses; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    const bool connected = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    close(fd);
    if (connected) break;
  }
  freeaddrinfo(addresses);
}

// Destroys `exposer`. civetweb's listener thread notices the stop request only when its poll()
// returns, which without traffic takes up to 2 s; connecting to the port wakes it, so the
// destructor returns in milliseconds.
void StopExposer(std::unique_ptr<prometheus::Exposer> exposer, const std::string& host,
                 int port) {
  if (exposer == nullptr) return;
  std::promise<void> stopped;
  std::future<void> stopped_future = stopped.get_future();
  std::thread stopper([&] {
    exposer.reset();
    stopped.set_value();
  });
  while (stopped_future.wait_for(std::chrono::milliseconds(20)) == std::future_status::timeout) {
    Poke(host, port);
  }
  stopper.join();
}

}  // namespace

void ConfigureServerProcess() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

ServiceRunner::ServiceRunner(ServerOptions options)
    : options_(std::move(options)),
      registry_(std::make_shared<prometheus::Registry>()),
      serving_gauge_(prometheus::BuildGauge()
                         .Name("sllm_service_serving")
                         .Help("1 while the named gRPC service reports SERVING on "
                               "grpc.health.v1, else 0")
                         .Register(*registry_)) {}

ServiceRunner::~ServiceRunner() {
  Shutdown();
  Wait();
  StopExposer(std::move(exposer_), LocalHost(options_.metrics_host), metrics_port_);
  CloseFd(wake_read_fd_);
  CloseFd(wake_write_fd_);
}

void ServiceRunner::AddService(grpc::Service* service) {
  std::lock_guard<std::mutex> lock(mu_);
  CHECK(!started_) << "AddService() after Start()";
  services_.push_back(service);
}

absl::Status ServiceRunner::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    CHECK(!started_) << "Start() called twice";
    if (draining_) return absl::FailedPreconditionError("Shutdown() was called before Start()");
  }
  // Before anything listens: a bad certificate fails the start without side effects.
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   MakeServerCredentials(options_.tls));
  if (options_.metrics_port >= 0 && exposer_ == nullptr) RETURN_IF_ERROR(StartMetrics());
  RETURN_IF_ERROR(StartServer(std::move(credentials)));

  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    server_->Shutdown();
    return absl::InternalError(absl::StrCat("pipe2: ", strerror(errno)));
  }
  wake_read_fd_ = wake[0];
  wake_write_fd_ = wake[1];
  if (options_.handle_signals) {
    absl::StatusOr<int> signal_fd = InstallShutdownSignalHandlers();
    if (!signal_fd.ok()) {
      server_->Shutdown();
      return signal_fd.status();
    }
    signal_fd_ = *signal_fd;
  }

  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [service, serving] : health_) health->SetServingStatus(service, serving);
  started_ = true;
  watcher_ = std::thread([this] { WatchForShutdown(); });
  LOG(INFO) << "gRPC listening on " << JoinHostPort(options_.host, port_)
            << (options_.tls.enabled()
                    ? (options_.tls.client_ca_file.empty() ? " (TLS)" : " (mTLS)")
                    : "")
            << ", metrics on "
            << (metrics_port_ < 0 ? "(disabled)"
                                  : JoinHostPort(options_.metrics_host, metrics_port_));
  return absl::OkStatus();
}

absl::Status ServiceRunner::ServeMetricsEarly() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    CHECK(!started_) << "ServeMetricsEarly() after Start()";
  }
  if (options_.metrics_port < 0 || exposer_ != nullptr) return absl::OkStatus();
  return StartMetrics();
}

absl::Status ServiceRunner::StartMetrics() {
  const std::string address = JoinHostPort(options_.metrics_host, options_.metrics_port);
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(address, /*num_threads=*/2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", address, ": ", e.what()));
  }
  const std::vector<int> ports = exposer_->GetListeningPorts();
  if (ports.empty()) {
    exposer_.reset();
    return absl::UnavailableError(absl::StrCat("cannot serve metrics on ", address));
  }
  metrics_port_ = ports.front();
  exposer_->RegisterCollectable(registry_);
  return absl::OkStatus();
}

absl::Status ServiceRunner::StartServer(std::shared_ptr<grpc::ServerCredentials> credentials) {
  // Both are process-wide switches read when a ServerBuilder is constructed.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  grpc::ServerBuilder builder;
  const std::string address = JoinHostPort(options_.host, options_.port);
  builder.AddListeningPort(address, std::move(credentials), &port_);
  // A second server on the same port is a deployment mistake: fail instead of sharing it.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options_.max_message_bytes);
  builder.SetMaxSendMessageSize(options_.max_message_bytes);
  for (grpc::Service* service : services_) builder.RegisterService(service);
  if (options_.configure_builder) options_.configure_builder(builder);

  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port_ == 0) {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
    StopExposer(std::move(exposer_), LocalHost(options_.metrics_host), metrics_port_);
    metrics_port_ = -1;
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address));
  }
  return absl::OkStatus();
}

std::string ServiceRunner::local_target() const {
  return JoinHostPort(LocalHost(options_.host), port_);
}

void ServiceRunner::SetServing(const std::string& service, bool serving) {
  std::lock_guard<std::mutex> lock(mu_);
  if (draining_) return;
  health_[service] = serving;
  if (!service.empty()) serving_gauge_.Add({{"service", service}}).Set(serving ? 1 : 0);
  if (started_) server_->GetHealthCheckService()->SetServingStatus(service, serving);
}

void ServiceRunner::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!started_) {
    draining_ = true;
    return;
  }
  const char byte = 0;
  // Non-blocking: a full pipe already wakes the watcher.
  [[maybe_unused]] ssize_t written = write(wake_write_fd_, &byte, 1);
}

void ServiceRunner::Wait() {
  std::lock_guard<std::mutex> lock(wait_mu_);
  if (watcher_.joinable()) watcher_.join();
  if (server_ != nullptr) server_->Wait();
}

void ServiceRunner::OnDrain(std::function<void()> hook) {
  drain_hooks_.push_back(std::move(hook));
}

bool ServiceRunner::draining() const {
  std::lock_guard<std::mutex> lock(mu_);
  return draining_;
}

void ServiceRunner::WatchForShutdown() {
  pollfd fds[2] = {{wake_read_fd_, POLLIN, 0}, {signal_fd_, POLLIN, 0}};
  const nfds_t count = signal_fd_ >= 0 ? 2 : 1;
  int signal_number = 0;
  for (;;) {
    if (poll(fds, count, /*timeout=*/-1) < 0) {
      if (errno == EINTR) continue;
      PLOG(ERROR) << "poll failed; shutting down";
      break;
    }
    if (fds[0].revents != 0) break;
    if (count == 2 && fds[1].revents != 0) {
      signal_number = DrainShutdownSignals(signal_fd_);
      if (signal_number != 0) break;
    }
  }
  Drain(signal_number);
}

void ServiceRunner::Drain(int signal_number) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    draining_ = true;
    // Every service, and the server as a whole, reports NOT_SERVING from now on.
    server_->GetHealthCheckService()->Shutdown();
    for (const auto& [service, serving] : health_) {
      if (!service.empty()) serving_gauge_.Add({{"service", service}}).Set(0);
    }
  }
  for (const auto& hook : drain_hooks_) hook();
  LOG(INFO) << (signal_number != 0 ? absl::StrCat("received ", strsignal(signal_number))
                                   : std::string("shutdown requested"))
            << "; draining in-flight calls for up to " << options_.drain_deadline;
  // Stops accepting calls at once; cancels the calls still running at the deadline.
  server_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoMilliseconds(options_.drain_deadline));
  LOG(INFO) << "gRPC server stopped";
}

}  // namespace sllm
