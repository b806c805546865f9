// One HTTP(S) request through libcurl, without following redirects (the hub's redirect
// headers carry the file's commit, etag and size). Bodies go to memory or are appended to a
// file (resumable downloads), with a progress callback.
#ifndef SLLM_SERVICES_HUB_HTTP_FETCH_H_
#define SLLM_SERVICES_HUB_HTTP_FETCH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace sllm::hub {

struct HttpRequest {
  bool head = false;  // HEAD instead of GET.
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, a 206 (partial) body is appended to this file and a 200 body replaces it,
  // instead of going to HttpResponse::body.
  std::string output_path;
  // Called as bytes arrive: (received in this request, expected in this request or 0).
  std::function<void(int64_t, int64_t)> progress;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // Lowercase names.
  std::string body;
  int64_t body_bytes = 0;  // Bytes of body received (also those written to output_path).

  // The header's value, or "" when absent.
  std::string Header(const std::string& lowercase_name) const;
};

// UNAVAILABLE naming the URL for transport failures (no connection, connection cut mid-body,
// timeouts: no byte for 60 s); any HTTP status is a response.
absl::StatusOr<HttpResponse> HttpFetch(const HttpRequest& request);

}  // namespace sllm::hub

#endif  // SLLM_SERVICES_HUB_HTTP_FETCH_H_
