// One HTTP/1.1 connection of HttpServer, plain or TLS: reads and parses requests with Beast,
// hands each to the handler as an HttpExchange, and writes the replies in order. Internal to
// gateway/http (Boost stays in this folder).
#ifndef SLLM_GATEWAY_HTTP_SESSION_H_
#define SLLM_GATEWAY_HTTP_SESSION_H_

#include <array>
#include <atomic>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "gateway/http/http_server.h"
#include "services/common/absl_view.h"

namespace sllm::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

inline absl::string_view Sv(std::string_view s) { return AbslView(s); }
inline absl::string_view Sv(beast::string_view s) { return {s.data(), s.size()}; }

// The body of an OpenAI-style error. `message` is ours: plain text without quotes or
// backslashes.
std::string ErrorBody(std::string_view message);

// One connection. Everything but the public methods runs on the connection's strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  // `tls`: the server's TLS context, or null for plain HTTP.
  Session(tcp::socket socket, net::ssl::context* tls, const HttpServerOptions& options,
          const HttpHandler& handler, std::atomic<int>& active, std::atomic<bool>& draining);
  void Begin();
  // From HttpExchange, on any thread. `from` identifies the exchange (it may be gone by the
  // time this runs: it is only compared, never dereferenced).
  void Post(const HttpExchange* from, std::string bytes, bool complete);
  // From HttpServer::Shutdown: close now if idle, else after the reply in progress.
  void Drain();
  // Closes on the connection's strand; the future is ready once closed.
  std::future<void> ForceClose();

 private:
  tcp::socket& Socket() { return tls_ ? tls_->next_layer() : *plain_; }

  // Calls `f` with the stream requests and replies travel on: the TLS stream or the socket.
  template <typename F>
  void WithStream(F&& f);
  void OnHandshake(beast::error_code ec);

  void ArmIdleTimer(absl::Duration timeout);
  void DoRead();

  void OnRead(beast::error_code ec, size_t n);
  // Parses what is buffered; dispatches a complete request or answers a malformed one. Waits
  // while a reply is in progress (requests are answered in order, one at a time).
  void Parse();
  // "Expect: 100-continue" (curl sends it for large bodies): tell the client to go on.
  void MaybeSendContinue();
  void Reject(int status, const std::string& message);

  void StartExchange(const std::shared_ptr<HttpExchange>& exchange);
  // The reply in progress is finished (written) or abandoned.
  void ReleaseActive();
  void Dispatch();

  void Enqueue(const HttpExchange* from, std::string bytes, bool complete);
  void Flush();

  void AfterReply();
  // Sends the TLS close_notify and waits for the client's (or its close, or the linger timer).
  void SendCloseNotify();
  void Close();

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

}  // namespace sllm::http

#endif  // SLLM_GATEWAY_HTTP_SESSION_H_
