#include "gateway/http/http_server.h"

#include <sys/resource.h>

#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gateway/http/session.h"
#include "gateway/http/tls_context.h"
#include "glog/logging.h"

namespace sllm::http {

namespace {

// Lets a process hold many concurrent streams: the soft descriptor limit up to the hard one.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpServerOptions options, HttpHandler handler)
      : options_(std::move(options)), handler_(std::move(handler)), acceptor_(net::make_strand(ioc_)) {}

  absl::Status Start() {
    RaiseFileLimit();
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      auto tls = MakeServerTlsContext(options_.tls_cert_file, options_.tls_key_file,
                                      options_.tls_client_ca_file);
      if (!tls.ok()) return tls.status();
      tls_ = std::move(*tls);
    }
    beast::error_code ec;
    const auto address = net::ip::make_address(options_.host, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("bad HTTP host '", options_.host, "'"));
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cannot listen for HTTP on ", options_.host,
                                                 ":", options_.port, ": ", ec.message()));
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    for (int i = 0; i < std::max(1, options_.io_threads); ++i) {
      threads_.emplace_back([this] { ioc_.run(); });
    }
    return absl::OkStatus();
  }

  void Shutdown(absl::Duration drain) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_ || threads_.empty()) return;
      stopped_ = true;
    }
    draining_ = true;
    std::promise<void> closed;
    net::post(acceptor_.get_executor(), [&] {
      beast::error_code ignored;
      acceptor_.close(ignored);
      closed.set_value();
    });
    closed.get_future().wait();
    for (auto& s : LiveSessions()) s->Drain();
    const absl::Time deadline = absl::Now() + drain;
    // Polls: the drain is a one-off at exit, and replies complete on I/O threads that must
    // not be made to signal a condition they do not own.
    while (active_.load() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
    std::vector<std::future<void>> closing;
    for (auto& s : LiveSessions()) closing.push_back(s->ForceClose());
    for (auto& f : closing) f.wait();
    work_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  int port() const { return port_; }
  int active() const { return active_.load(); }

 private:
  void Accept() {
    acceptor_.async_accept(net::make_strand(ioc_), [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted || !acceptor_.is_open()) return;
      if (!ec) {
        beast::error_code ignored;
        s.set_option(tcp::no_delay(true), ignored);
        auto session = std::make_shared<Session>(std::move(s), tls_.get(), options_, handler_,
                                                 active_, draining_);
        Track(session);
        session->Begin();
      } else if (ec == net::error::no_descriptors) {
        LOG_EVERY_N(WARNING, 100) << "HTTP accept: out of file descriptors";
      }
      Accept();
    });
  }

  void Track(const std::shared_ptr<Session>& session) {
    std::lock_guard<std::mutex> lock(mu_);
    // Forget closed sessions now and then so the list stays the size of the live ones.
    if (sessions_.size() >= 2 * last_live_ + 64) {
      std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
      last_live_ = sessions_.size();
    }
    sessions_.push_back(session);
  }

  std::vector<std::shared_ptr<Session>> LiveSessions() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::shared_ptr<Session>> out;
    for (auto& w : sessions_) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  const HttpServerOptions options_;
  const HttpHandler handler_;
  std::unique_ptr<net::ssl::context> tls_;  // HTTPS; null for plain HTTP.
  net::io_context ioc_;
  // Keeps the I/O threads running while there is nothing to do (until Shutdown).
  net::executor_work_guard<net::io_context::executor_type> work_ = net::make_work_guard(ioc_);
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<int> active_{0};
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  bool stopped_ = false;                        // Guarded by mu_.
  std::vector<std::weak_ptr<Session>> sessions_;  // Guarded by mu_.
  size_t last_live_ = 0;                        // Guarded by mu_.
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() { Shutdown(absl::ZeroDuration()); }
absl::Status HttpServer::Start() { return impl_->Start(); }
int HttpServer::port() const { return impl_->port(); }
void HttpServer::Shutdown(absl::Duration drain) { impl_->Shutdown(drain); }
int HttpServer::active_exchanges() const { return impl_->active(); }

}  // namespace sllm::http
