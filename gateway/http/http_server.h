// A small event-driven HTTP/1.1 server (Boost.Beast parser on Boost.Asio): keep-alive,
// pipelining, chunked streaming replies (for server-sent events), body and header limits, idle
// timeouts, client-disconnect notification, a draining shutdown, and HTTPS (TLS through
// Boost.Asio SSL and OpenSSL, optionally requiring client certificates) when given a
// certificate. Handlers run on an I/O
// thread and must not block: they hand slow work to another thread and reply through the
// HttpExchange, whose methods are thread-safe. Boost stays inside the .cc file.
//
//   HttpServer server(options, [](std::shared_ptr<HttpExchange> ex) {
//     ex->Respond(200, "text/plain", "hello\n");
//   });
//   RETURN_IF_ERROR(server.Start());
#ifndef SLLM_GATEWAY_HTTP_HTTP_SERVER_H_
#define SLLM_GATEWAY_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace sllm::http {

struct HttpServerOptions {
  std::string host = "0.0.0.0";
  int port = 0;  // 0 picks a free port (HttpServer::port()).
  int io_threads = 2;
  // Larger bodies get 413 before they are read; larger headers 431.
  size_t max_body_bytes = 8 << 20;
  size_t max_header_bytes = 16 << 10;
  // A connection with no request in progress is closed after this long.
  absl::Duration idle_timeout = absl::Seconds(75);

  // HTTPS: the PEM certificate chain and private key the server presents. Both empty: plain
  // HTTP. A client that speaks plain HTTP to an HTTPS port fails the handshake and is closed.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM CA certificates: with HTTPS, every client must present a certificate they signed.
  std::string tls_client_ca_file;
  // A connection whose TLS handshake has not completed in this time is closed.
  absl::Duration tls_handshake_timeout = absl::Seconds(10);
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // As sent: "/v1/models?x=1".
  std::string path;    // The target without its query.
  Headers headers;     // Names in lower case, in arrival order.
  std::string body;
  bool keep_alive = true;

  // The first header called `name` (lower case), or "".
  std::string_view Header(std::string_view name) const;
};

class Session;

// One request and its reply. Exactly one of Respond() or StartStream()...End() completes it;
// later calls are ignored. Thread-safe. Dropping the last reference without replying sends a
// 500, so a connection never hangs.
class HttpExchange {
 public:
  // `keep_alive`: whether the reply leaves the connection open.
  HttpExchange(std::weak_ptr<Session> session, HttpRequest request, bool keep_alive);
  ~HttpExchange();
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;

  const HttpRequest& request() const { return request_; }

  // A whole reply with Content-Length.
  void Respond(int status, std::string_view content_type, std::string body,
               const Headers& headers = {});
  // A streamed reply (chunked transfer encoding): the status line and headers now, then each
  // Write() as one chunk, then End(). A non-empty `first_chunk` goes out with the headers, in
  // the same socket write (it saves a round through the connection's I/O thread).
  void StartStream(int status, std::string_view content_type, const Headers& headers = {},
                   std::string_view first_chunk = {});
  void Write(std::string data);
  void End();

  // `callback` runs once, on an I/O thread, if the client disconnects before the reply is
  // complete (at once if it already has). Keep it short.
  void OnClientGone(std::function<void()> callback);
  bool client_gone() const;

  // Called by the session.
  void NotifyClientGone();

 private:
  void Send(std::string bytes, bool complete);

  const std::weak_ptr<Session> session_;
  const HttpRequest request_;
  const bool keep_alive_;
  mutable std::mutex mu_;
  enum class State { kNew, kStreaming, kDone } state_ = State::kNew;  // Guarded by mu_.
  bool gone_ = false;                                                // Guarded by mu_.
  std::function<void()> on_gone_;                                    // Guarded by mu_.
};

using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Shutdown(0) if still running.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. UNAVAILABLE when the port cannot be bound,
  // INVALID_ARGUMENT (naming the file) when a TLS file cannot be loaded.
  absl::Status Start();
  int port() const;

  // Stops accepting; idle connections close at once, connections with a reply in progress
  // close when it completes or after `drain`, whichever comes first. Then stops the threads.
  // Idempotent.
  void Shutdown(absl::Duration drain);

  // Replies in progress (requests received and not yet answered in full).
  int active_exchanges() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// Formats one HTTP/1.1 response head ("HTTP/1.1 200 OK\r\n...\r\n\r\n").
std::string ResponseHead(int status, std::string_view content_type, const Headers& headers,
                         std::optional<size_t> content_length, bool keep_alive);

}  // namespace sllm::http

#endif  // SLLM_GATEWAY_HTTP_HTTP_SERVER_H_
