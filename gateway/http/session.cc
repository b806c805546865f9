#include "gateway/http/session.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"

namespace sllm::http {

std::string ErrorBody(std::string_view message) {
  return absl::StrCat("{\"error\":{\"message\":\"", Sv(message),
                      "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}");
}

Session::Session(tcp::socket socket, net::ssl::context* tls, const HttpServerOptions& options,
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

void Session::Begin() {
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

void Session::Post(const HttpExchange* from, std::string bytes, bool complete) {
  net::post(executor_,
            [self = shared_from_this(), from, bytes = std::move(bytes), complete]() mutable {
              self->Enqueue(from, std::move(bytes), complete);
            });
}

void Session::Drain() {
  net::post(executor_, [self = shared_from_this()] {
    self->close_after_reply_ = true;
    // Idle: no request in progress and no reply still being written.
    if (self->current_id_ == nullptr && !self->reply_done_pending_) self->Close();
  });
}

std::future<void> Session::ForceClose() {
  auto done = std::make_shared<std::promise<void>>();
  net::post(executor_, [self = shared_from_this(), done] {
    self->Close();
    done->set_value();
  });
  return done->get_future();
}

// Calls `f` with the stream requests and replies travel on: the TLS stream or the socket.
template <typename F>
void Session::WithStream(F&& f) {
  if (tls_) {
    f(*tls_);
  } else {
    f(*plain_);
  }
}

void Session::OnHandshake(beast::error_code ec) {
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

void Session::ArmIdleTimer(absl::Duration timeout) {
  idle_timer_.expires_after(absl::ToChronoNanoseconds(timeout));
  idle_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->Close();
  });
}

void Session::DoRead() {
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

void Session::OnRead(beast::error_code ec, size_t n) {
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

void Session::Parse() {
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

void Session::MaybeSendContinue() {
  if (!parser_ || !parser_->is_header_done() || sent_continue_) return;
  const auto& req = parser_->get();
  auto it = req.find(bhttp::field::expect);
  if (it == req.end() || !beast::iequals(it->value(), "100-continue")) return;
  sent_continue_ = true;
  out_.push_back("HTTP/1.1 100 Continue\r\n\r\n");
  Flush();
}

void Session::Reject(int status, const std::string& message) {
  parser_.reset();
  current_keep_alive_ = false;
  auto exchange = std::make_shared<HttpExchange>(weak_from_this(), HttpRequest{}, false);
  StartExchange(exchange);
  exchange->Respond(status, "application/json", ErrorBody(message));
}

void Session::StartExchange(const std::shared_ptr<HttpExchange>& exchange) {
  idle_timer_.cancel();
  current_ = exchange;
  current_id_ = exchange.get();
  active_.fetch_add(1);
  counted_ = true;
}

void Session::ReleaseActive() {
  if (!counted_) return;
  counted_ = false;
  active_.fetch_sub(1);
}

void Session::Dispatch() {
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

void Session::Enqueue(const HttpExchange* from, std::string bytes, bool complete) {
  if (closed_ || from != current_id_) return;
  out_.push_back(std::move(bytes));
  if (complete) {
    current_.reset();
    current_id_ = nullptr;
    reply_done_pending_ = true;
  }
  Flush();
}

void Session::Flush() {
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

void Session::AfterReply() {
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

void Session::SendCloseNotify() {
  if (closed_) return;
  tls_->async_shutdown([self = shared_from_this()](beast::error_code) { self->Close(); });
}

void Session::Close() {
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

}  // namespace sllm::http
