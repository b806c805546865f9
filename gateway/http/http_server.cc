#include "gateway/http/http_server.h"

#include <sys/resource.h>

#include <array>
#include <deque>
#include <future>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gateway/http/tls_context.h"
#include "glog/logging.h"
#include "services/common/absl_view.h"

namespace sllm::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

// Lets a process hold many concurrent streams: the soft descriptor limit up to the hard one.
void RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

absl::string_view Sv(std::string_view s) { return AbslView(s); }
absl::string_view Sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

// `message` is ours: plain text without quotes or backslashes.
std::string ErrorBody(std::string_view message) {
  return absl::StrCat("{\"error\":{\"message\":\"", Sv(message),
                      "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::string ResponseHead(int status, std::string_view content_type, const Headers& headers,
                         std::optional<size_t> content_length, bool keep_alive) {
  std::string head = absl::StrCat(
      "HTTP/1.1 ", status, " ",
      Sv(bhttp::obsolete_reason(static_cast<bhttp::status>(status))), "\r\n");
  if (!content_type.empty()) absl::StrAppend(&head, "Content-Type: ", Sv(content_type), "\r\n");
  for (const auto& [k, v] : headers) absl::StrAppend(&head, k, ": ", v, "\r\n");
  if (content_length) {
    absl::StrAppend(&head, "Content-Length: ", *content_length, "\r\n");
  } else {
    absl::StrAppend(&head, "Transfer-Encoding: chunked\r\n");
  }
  if (!keep_alive) absl::StrAppend(&head, "Connection: close\r\n");
  absl::StrAppend(&head, "\r\n");
  return head;
}

// One connection, plain or TLS. Everything below runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `tls`: the server's TLS context, or null for plain HTTP.
  Session(tcp::socket socket, net::ssl::context* tls, const HttpServerOptions& options,
          const HttpHandler& handler, std::atomic<int>& active, std::atomic<bool>& draining)
      : executor_(socket.get_executor()),
        idle_timer_(executor_),
        options_(options),
        handler_(handler),
        active_(active),
        draining_(draining) {
    if (tls != nullptr) {
      tls_.emplace(std::move(socket), *tls);
    } else {
      plain_.emplace(std::move(socket));
    }
  }

  void Begin() {
    if (!tls_) {
      ArmIdleTimer(options_.idle_timeout);
      DoRead();
      return;
    }
    // The handshake runs on the event loop like any read; the timer bounds it.
    ArmIdleTimer(options_.tls_handshake_timeout);
    tls_->async_handshake(net::ssl::stream_base::server,
                          [self = shared_from_this()](beast::error_code ec) {
                            self->OnHandshake(ec);
                          });
  }

  // From HttpExchange, on any thread. `from` identifies the exchange (it may be gone by the
  // time this runs: it is only compared, never dereferenced).
  void Post(const HttpExchange* from, std::string bytes, bool complete) {
    net::post(executor_,
              [self = shared_from_this(), from, bytes = std::move(bytes), complete]() mutable {
                self->Enqueue(from, std::move(bytes), complete);
              });
  }

  // From HttpServer::Shutdown: close now if idle, else after the reply in progress.
  void Drain() {
    net::post(executor_, [self = shared_from_this()] {
      self->close_after_reply_ = true;
      // Idle: no request in progress and no reply still being written.
      if (self->current_id_ == nullptr && !self->reply_done_pending_) self->Close();
    });
  }
  // Closes on the connection's strand; the future is ready once closed.
  std::future<void> ForceClose() {
    auto done = std::make_shared<std::promise<void>>();
    net::post(executor_, [self = shared_from_this(), done] {
      self->Close();
      done->set_value();
    });
    return done->get_future();
  }

 private:
  tcp::socket& Socket() { return tls_ ? tls_->next_layer() : *plain_; }

  // Calls `f` with the stream requests and replies travel on: the TLS stream or the socket.
  template <typename F>
  void WithStream(F&& f) {
    if (tls_) {
      f(*tls_);
    } else {
      f(*plain_);
    }
  }

  void OnHandshake(beast::error_code ec) {
    if (closed_) return;
    if (ec) {
      // Plain HTTP on the HTTPS port, an untrusted client certificate, a port scanner...
      VLOG(1) << "TLS handshake failed: " << ec.message();
      Close();
      return;
    }
    ArmIdleTimer(options_.idle_timeout);
    DoRead();
  }

  void ArmIdleTimer(absl::Duration timeout) {
    idle_timer_.expires_after(absl::ToChronoNanoseconds(timeout));
    idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->Close();
    });
  }

  void DoRead() {
    // A TLS lingering close owns the stream (SendCloseNotify).
    if (reading_ || closed_ || (lingering_ && tls_)) return;
    // Back-pressure: a client that pipelines far ahead waits until we catch up.
    if (buffer_.size() > options_.max_header_bytes + options_.max_body_bytes) return;
    reading_ = true;
    // Into a buffer of its own: the read stays armed while buffer_ is parsed and consumed.
    WithStream([this](auto& stream) {
      stream.async_read_some(
          net::buffer(read_buf_),
          [self = shared_from_this()](beast::error_code ec, size_t n) { self->OnRead(ec, n); });
    });
  }

  void OnRead(beast::error_code ec, size_t n) {
    reading_ = false;
    if (lingering_ && tls_) {
      // The read was cancelled (or raced the cancel) to make way for the TLS close.
      SendCloseNotify();
      return;
    }
    if (ec) {
      // The client is gone (or closed its side): whatever is in progress is abandoned.
      Close();
      return;
    }
    if (lingering_) {
      DoRead();  // Discard until the client closes.
      return;
    }
    buffer_.commit(net::buffer_copy(buffer_.prepare(n), net::buffer(read_buf_.data(), n)));
    Parse();
    DoRead();
  }

  // Parses what is buffered; dispatches a complete request or answers a malformed one. Waits
  // while a reply is in progress (requests are answered in order, one at a time).
  void Parse() {
    while (current_id_ == nullptr && !reply_done_pending_ && !lingering_ && !closed_) {
      if (!parser_) {
        if (buffer_.size() == 0) return;
        parser_.emplace();
        parser_->header_limit(static_cast<uint32_t>(options_.max_header_bytes));
        parser_->body_limit(options_.max_body_bytes);
        parser_->eager(true);
        sent_continue_ = false;
        header_bytes_ = 0;
      }
      beast::error_code ec;
      // Beast holds each put() to the header limit, but put() consumes every complete header
      // line: headers arriving in pieces would never reach it. Each put() gets what is left,
      // and a header still incomplete with more than the limit received is refused.
      const bool in_header = !parser_->is_header_done();
      if (in_header) {
        parser_->header_limit(static_cast<uint32_t>(
            options_.max_header_bytes - std::min(header_bytes_, options_.max_header_bytes)));
      }
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      if (in_header && !parser_->is_header_done()) {
        header_bytes_ += used;
        if (ec == bhttp::error::need_more &&
            header_bytes_ + buffer_.size() > options_.max_header_bytes) {
          ec = bhttp::error::header_limit;
        }
      }
      if (ec == bhttp::error::need_more) {
        MaybeSendContinue();
        return;
      }
      if (ec) {
        if (ec == bhttp::error::body_limit) {
          Reject(413, absl::StrCat("the request body is larger than the limit of ",
                                   options_.max_body_bytes, " bytes"));
        } else if (ec == bhttp::error::header_limit) {
          Reject(431, absl::StrCat("the request headers are larger than the limit of ",
                                   options_.max_header_bytes, " bytes"));
        } else {
          Reject(400, absl::StrCat("malformed HTTP request: ", ec.message()));
        }
        return;
      }
      if (!parser_->is_done()) {
        MaybeSendContinue();
        return;
      }
      Dispatch();
    }
  }

  // "Expect: 100-continue" (curl sends it for large bodies): tell the client to go on.
  void MaybeSendContinue() {
    if (!parser_ || !parser_->is_header_done() || sent_continue_) return;
    const auto& req = parser_->get();
    auto it = req.find(bhttp::field::expect);
    if (it == req.end() || !beast::iequals(it->value(), "100-continue")) return;
    sent_continue_ = true;
    out_.push_back("HTTP/1.1 100 Continue\r\n\r\n");
    Flush();
  }

  void Reject(int status, const std::string& message) {
    parser_.reset();
    current_keep_alive_ = false;
    auto exchange = std::make_shared<HttpExchange>(weak_from_this(), HttpRequest{}, false);
    StartExchange(exchange);
    exchange->Respond(status, "application/json", ErrorBody(message));
  }

  void StartExchange(const std::shared_ptr<HttpExchange>& exchange) {
    idle_timer_.cancel();
    current_ = exchange;
    current_id_ = exchange.get();
    active_.fetch_add(1);
    counted_ = true;
  }

  // The reply in progress is finished (written) or abandoned.
  void ReleaseActive() {
    if (!counted_) return;
    counted_ = false;
    active_.fetch_sub(1);
  }

  void Dispatch() {
    bhttp::request<bhttp::string_body> msg = parser_->release();
    parser_.reset();
    HttpRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    req.path = req.target.substr(0, req.target.find('?'));
    for (const auto& field : msg) {
      req.headers.emplace_back(absl::AsciiStrToLower(Sv(field.name_string())),
                               std::string(field.value()));
    }
    req.body = std::move(msg.body());
    req.keep_alive = msg.keep_alive();
    current_keep_alive_ = req.keep_alive && !draining_.load();
    auto exchange =
        std::make_shared<HttpExchange>(weak_from_this(), std::move(req), current_keep_alive_);
    StartExchange(exchange);
    handler_(std::move(exchange));
  }

  void Enqueue(const HttpExchange* from, std::string bytes, bool complete) {
    if (closed_ || from != current_id_) return;
    out_.push_back(std::move(bytes));
    if (complete) {
      current_.reset();
      current_id_ = nullptr;
      reply_done_pending_ = true;
    }
    Flush();
  }

  void Flush() {
    if (writing_ || closed_) return;
    if (out_.empty()) {
      if (reply_done_pending_) AfterReply();
      return;
    }
    writing_ = true;
    pending_.clear();
    for (auto& s : out_) pending_ += s;
    out_.clear();
    WithStream([this](auto& stream) {
      net::async_write(stream, net::buffer(pending_),
                       [self = shared_from_this()](beast::error_code ec, size_t) {
                         self->writing_ = false;
                         if (ec) {
                           self->Close();
                           return;
                         }
                         self->Flush();
                       });
    });
  }

  void AfterReply() {
    reply_done_pending_ = false;
    ReleaseActive();
    if (!current_keep_alive_ || close_after_reply_ || draining_.load()) {
      // Lingering close: stop sending, read and drop what the client still sends (so it
      // sees our reply rather than a reset), then close.
      lingering_ = true;
      buffer_.consume(buffer_.size());
      ArmIdleTimer(absl::Seconds(2));
      if (tls_) {
        // TLS ends with close_notify, which needs the stream to itself: stop the pending read
        // first (OnRead goes on from there).
        beast::error_code ignored;
        if (reading_) {
          Socket().cancel(ignored);
        } else {
          SendCloseNotify();
        }
        return;
      }
      beast::error_code ignored;
      Socket().shutdown(tcp::socket::shutdown_send, ignored);
      DoRead();
      return;
    }
    ArmIdleTimer(options_.idle_timeout);
    Parse();  // A pipelined request may already be buffered.
    DoRead();
  }

  // Sends the TLS close_notify and waits for the client's (or its close, or the linger timer).
  void SendCloseNotify() {
    if (closed_) return;
    tls_->async_shutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    ReleaseActive();
    if (current_id_ != nullptr) {
      // Whatever is in progress is abandoned.
      if (auto exchange = current_.lock()) exchange->NotifyClientGone();
      current_.reset();
      current_id_ = nullptr;
    }
    idle_timer_.cancel();
    beast::error_code ignored;
    Socket().shutdown(tcp::socket::shutdown_both, ignored);
    Socket().close(ignored);
  }

  const tcp::socket::executor_type executor_;  // The connection's strand.
  std::optional<tcp::socket> plain_;                   // Plain HTTP; or
  std::optional<net::ssl::stream<tcp::socket>> tls_;   // HTTPS.
  net::steady_timer idle_timer_;
  const HttpServerOptions& options_;
  const HttpHandler& handler_;
  std::atomic<int>& active_;
  std::atomic<bool>& draining_;

  std::array<char, 16 << 10> read_buf_;
  beast::flat_buffer buffer_;  // Received, not yet parsed.
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  // The request being answered. The handler owns it; an exchange dropped unanswered replies
  // 500 from its destructor.
  std::weak_ptr<HttpExchange> current_;
  const HttpExchange* current_id_ = nullptr;
  bool current_keep_alive_ = true;
  bool counted_ = false;  // This connection counts in active_.
  bool sent_continue_ = false;
  size_t header_bytes_ = 0;  // Of the request being parsed, header bytes consumed so far.
  std::deque<std::string> out_;
  std::string pending_;  // Bytes of the write in flight.
  bool reading_ = false, writing_ = false, closed_ = false, lingering_ = false;
  bool reply_done_pending_ = false, close_after_reply_ = false;
};

// ---------------------------------------------------------------------------------------------

HttpExchange::HttpExchange(std::weak_ptr<Session> session, HttpRequest request,
                           bool keep_alive)
    : session_(std::move(session)), request_(std::move(request)), keep_alive_(keep_alive) {}

HttpExchange::~HttpExchange() {
  State state;
  bool gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state = state_;
    gone = gone_;
  }
  if (state == State::kDone || gone) return;
  // Nobody finished the reply: tell the client rather than leave the connection hanging.
  LOG(ERROR) << "HTTP handler dropped " << request_.method << " " << request_.target
             << " without a complete reply";
  if (state == State::kNew) {
    std::string body = ErrorBody("internal error: the request was dropped without a reply");
    std::string bytes = ResponseHead(500, "application/json", {}, body.size(), keep_alive_);
    Send(bytes + body, /*complete=*/true);
  } else {
    Send("0\r\n\r\n", /*complete=*/true);
  }
}

void HttpExchange::Send(std::string bytes, bool complete) {
  if (auto session = session_.lock()) session->Post(this, std::move(bytes), complete);
}

void HttpExchange::Respond(int status, std::string_view content_type, std::string body,
                           const Headers& headers) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kNew) return;
    state_ = State::kDone;
  }
  std::string bytes = ResponseHead(status, content_type, headers, body.size(), keep_alive_);
  bytes += body;
  Send(std::move(bytes), /*complete=*/true);
}

void HttpExchange::StartStream(int status, std::string_view content_type,
                               const Headers& headers) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kNew) return;
    state_ = State::kStreaming;
  }
  Send(ResponseHead(status, content_type, headers, std::nullopt, keep_alive_), false);
}

void HttpExchange::Write(std::string data) {
  if (data.empty()) return;  // An empty chunk would end the body.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kStreaming) return;
  }
  std::string chunk = absl::StrCat(absl::Hex(data.size()), "\r\n");
  chunk += data;
  chunk += "\r\n";
  Send(std::move(chunk), false);
}

void HttpExchange::End() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kStreaming) return;
    state_ = State::kDone;
  }
  Send("0\r\n\r\n", true);
}

void HttpExchange::OnClientGone(std::function<void()> callback) {
  bool now;
  {
    std::lock_guard<std::mutex> lock(mu_);
    now = gone_;
    if (!now) on_gone_ = std::move(callback);
  }
  if (now) callback();
}

bool HttpExchange::client_gone() const {
  std::lock_guard<std::mutex> lock(mu_);
  return gone_;
}

void HttpExchange::NotifyClientGone() {
  std::function<void()> callback;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (gone_ || state_ == State::kDone) return;
    gone_ = true;
    callback = std::move(on_gone_);
  }
  if (callback) callback();
}

// ---------------------------------------------------------------------------------------------

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
