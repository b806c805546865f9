// HttpExchange (declared in http_server.h): one request and its reply, written through the
// connection's Session from any thread.
#include "gateway/http/http_server.h"

#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/http/session.h"
#include "glog/logging.h"

namespace sllm::http {
namespace {

// Appends `data` to `out` as one chunk of a chunked body; nothing when empty (an empty chunk
// would end the body).
void AppendChunk(std::string_view data, std::string& out) {
  if (data.empty()) return;
  absl::StrAppend(&out, absl::Hex(data.size()), "\r\n", Sv(data), "\r\n");
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
                               const Headers& headers, std::string_view first_chunk) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kNew) return;
    state_ = State::kStreaming;
  }
  std::string bytes = ResponseHead(status, content_type, headers, std::nullopt, keep_alive_);
  AppendChunk(first_chunk, bytes);
  Send(std::move(bytes), false);
}

void HttpExchange::Write(std::string data) {
  if (data.empty()) return;  // An empty chunk would end the body.
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ != State::kStreaming) return;
  }
  std::string chunk;
  AppendChunk(data, chunk);
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

}  // namespace sllm::http
