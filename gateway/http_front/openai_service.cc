#include "gateway/http_front/openai_service.h"

#include <chrono>
#include <optional>
#include <random>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gateway/http_front/openai_encoder.h"
#include "gateway/http/percent_decode.h"
#include "gateway/http_front/openai_request.h"
#include "gateway/validation/error_mapping.h"
#include "nlohmann/json.hpp"
#include "services/common/absl_view.h"
#include "services/common/metrics.h"

namespace sllm::gateway {
namespace {

using json = nlohmann::ordered_json;

const http::Headers kJsonHeaders = {};
const http::Headers kSseHeaders = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};

int64_t UnixNow() { return absl::ToUnixSeconds(absl::Now()); }

}  // namespace

// One HTTP reply on `route`: sends it and records sllm_http_requests_total and the latency.
class OpenAiService::Reply {
 public:
  Reply(OpenAiService& service, std::string route)
      : service_(service), route_(std::move(route)), start_(std::chrono::steady_clock::now()) {}

  void Json(http::HttpExchange& ex, int status, std::string body,
            const http::Headers& headers = kJsonHeaders) {
    Complete(status);
    ex.Respond(status, "application/json", std::move(body), headers);
  }

  void Error(http::HttpExchange& ex, const absl::Status& status) {
    const ErrorMapping& m = MapError(status);
    http::Headers headers;
    if (const int retry = RetryAfterSeconds(status); retry > 0) {
      headers.emplace_back("Retry-After", std::to_string(retry));
    }
    if (m.http_status == 401) headers.emplace_back("WWW-Authenticate", "Bearer");
    if (ex.client_gone()) {
      Complete(m.http_status);
      return;
    }
    Json(ex, m.http_status, OpenAiErrorBody(status), headers);
  }

  // Holds the request's API-key lease (its in-flight slot) until Complete().
  void Hold(ApiKeyAuth::Lease lease) { lease_ = std::move(lease); }

  // Records the reply with `status` and gives back the lease. Called before the reply's last
  // bytes go out, so a client that has the whole reply sees it counted and its key's slot free
  // (it may send its next request at once).
  void Complete(int status) {
    lease_ = ApiKeyAuth::Lease();
    if (recorded_) return;
    recorded_ = true;
    service_.requests_.Add({{"route", route_}, {"status", std::to_string(status)}}).Increment();
    service_.latency_.Add({{"route", route_}}, LatencyBuckets())
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }

 private:
  OpenAiService& service_;
  const std::string route_;
  const std::chrono::steady_clock::time_point start_;
  ApiKeyAuth::Lease lease_;
  bool recorded_ = false;
};

OpenAiService::OpenAiService(Pipeline& pipeline, GatewayMetrics& metrics,
                             prometheus::Registry& registry, std::function<bool()> ready,
                             OpenAiServiceOptions options, ApiKeyAuth* auth)
    : pipeline_(pipeline),
      metrics_(metrics),
      requests_(prometheus::BuildCounter()
                    .Name("sllm_http_requests_total")
                    .Help("Gateway HTTP requests by route and status")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("sllm_http_request_latency_seconds")
                   .Help("Gateway HTTP request received to reply complete, by route")
                   .Register(registry)),
      ready_(std::move(ready)),
      options_(options),
      auth_(auth),
      id_seed_(std::random_device()()) {}

OpenAiService::~OpenAiService() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [&] { return running_ == 0; });
}

int OpenAiService::in_flight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

std::string OpenAiService::NextId() {
  return absl::StrFormat("%016x%08x", id_seed_, next_id_.fetch_add(1));
}

absl::Time OpenAiService::Deadline(const http::HttpRequest& request, bool stream) const {
  absl::Duration timeout = options_.request_timeout;
  // The OpenAI SDKs send their client timeout as X-Stainless-Timeout, but it runs only until
  // the response's headers arrive: for a stream that is the first chunk, not the last.
  std::vector<const char*> headers = {"x-request-timeout"};
  if (!stream) headers.push_back("x-stainless-timeout");
  for (const char* header : headers) {
    double seconds = 0;
    if (absl::SimpleAtod(AbslView(request.Header(header)), &seconds) && seconds > 0) {
      timeout = std::min(timeout, absl::Seconds(seconds));
    }
  }
  return absl::Now() + timeout;
}

void OpenAiService::Handle(std::shared_ptr<http::HttpExchange> ex) {
  const http::HttpRequest& r = ex->request();
  const std::string& path = r.path;
  auto only = [&](const char* method, const std::string& route) {
    if (r.method == method) return true;
    Reply reply(*this, route);
    reply.Json(*ex, 405,
               OpenAiErrorBody(absl::InvalidArgumentError(absl::StrCat(
                                   r.method, " is not allowed on ", path, "; use ", method)),
                               "method_not_allowed"),
               {{"Allow", method}});
    return false;
  };
  if (path == "/health") {
    if (!only("GET", "/health")) return;
    Reply(*this, "/health").Json(*ex, 200, R"({"status":"ok"})");
  } else if (path == "/ready") {
    if (!only("GET", "/ready")) return;
    Reply reply(*this, "/ready");
    if (!ready_()) {
      reply.Json(*ex, 503, R"({"status":"not ready","reason":"draining"})");
    } else if (pipeline_.shards().Models().empty()) {
      reply.Json(*ex, 503, R"({"status":"not ready","reason":"no healthy worker shard"})");
    } else {
      reply.Json(*ex, 200, R"({"status":"ready"})");
    }
  } else if (path == "/v1/models" || absl::StartsWith(AbslView(path), "/v1/models/")) {
    if (!only("GET", "/v1/models")) return;
    Reply reply(*this, "/v1/models");
    if (!Authorize(*ex, reply)) return;
    // The SDKs percent-encode the id: "org/name" comes as "org%2Fname".
    ListModels(*ex, reply,
               path == "/v1/models" ? std::string() : http::PercentDecode(path.substr(11)));
  } else if (path == "/v1/chat/completions") {
    if (only("POST", path)) Generate(std::move(ex), path, OpenAiApi::kChatCompletions);
  } else if (path == "/v1/completions") {
    if (only("POST", path)) Generate(std::move(ex), path, OpenAiApi::kCompletions);
  } else if (path == "/v1/responses") {
    if (only("POST", path)) Generate(std::move(ex), path, OpenAiApi::kResponses);
  } else {
    Reply(*this, "other")
        .Json(*ex, 404,
              OpenAiErrorBody(absl::NotFoundError(absl::StrCat(
                  "no route for ", r.method, " ", path, "; this server serves /v1/chat/"
                  "completions, /v1/completions, /v1/responses, /v1/models, /health, /ready")),
                  "unknown_route"));
  }
}

std::optional<ApiKeyAuth::Lease> OpenAiService::Authorize(http::HttpExchange& ex, Reply& reply) {
  if (auth_ == nullptr) return ApiKeyAuth::Lease();
  auto lease = auth_->Admit(ex.request().Header("authorization"));
  if (!lease.ok()) {
    reply.Error(ex, lease.status());
    return std::nullopt;
  }
  return std::move(*lease);
}

void OpenAiService::ListModels(http::HttpExchange& ex, Reply& reply, std::string_view id) {
  const std::vector<ModelInfo> models = pipeline_.shards().Models();
  json data = json::array();
  for (const ModelInfo& m : models) {
    json card = {{"id", m.name},
                 {"object", "model"},
                 {"created", 0},
                 {"owned_by", "sllm"},
                 {"max_model_len", m.context_length}};
    if (!id.empty() && m.name == id) {
      reply.Json(ex, 200, card.dump());
      return;
    }
    data.push_back(std::move(card));
  }
  if (!id.empty()) {
    // The same NOT_FOUND the pipeline gives, listing the served models.
    reply.Error(ex, FindModel(id, models).status());
    return;
  }
  reply.Json(ex, 200, json{{"object", "list"}, {"data", data}}.dump());
}

void OpenAiService::Generate(std::shared_ptr<http::HttpExchange> ex, const std::string& route,
                             OpenAiApi api) {
  auto reply = std::make_shared<Reply>(*this, route);
  const http::HttpRequest& r = ex->request();
  if (!ready_()) {
    reply->Error(*ex, absl::UnavailableError("the gateway is shutting down"));
    return;
  }
  // Held until the reply completes: it counts against the key's in-flight cap.
  std::optional<ApiKeyAuth::Lease> lease = Authorize(*ex, *reply);
  if (!lease) return;
  reply->Hold(std::move(*lease));
  const std::string_view type = r.Header("content-type");
  if (!type.empty() && !absl::StartsWith(AbslView(type), "application/json")) {
    reply->Error(*ex, absl::InvalidArgumentError(absl::StrCat(
                          "Content-Type must be application/json, got '", AbslView(type), "'")));
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++running_;
  }
  // A small body is parsed here, on the I/O thread, and its pipeline started from here: no
  // thread hand-off on the way to the first token. A large one is parsed on a thread of
  // threads_, not to hold up the connections that share this I/O thread.
  if (r.body.size() <= kParseInlineBytes) {
    StartGeneration(std::move(ex), std::move(reply), api);
    return;
  }
  const absl::Status started = threads_.Run([this, ex, reply, api]() mutable {
    StartGeneration(std::move(ex), std::move(reply), api);
  });
  if (!started.ok()) {
    // Out of threads (ulimit -u, memory): refuse this request, keep serving the others.
    reply->Error(*ex, OverloadedError(absl::StrCat("the gateway ", started.message()),
                                      /*retry_after_seconds=*/1));
    Ended();
  }
}

// One generation, from its parsed request to the pipeline's result.
struct OpenAiService::Generation {
  Generation(OpenAiService& service, std::shared_ptr<http::HttpExchange> exchange,
             std::shared_ptr<Reply> reply, OpenAiRequest request)
      : ex(std::move(exchange)),
        reply(std::move(reply)),
        req(std::move(request)),
        id(service.NextId()),
        call(std::make_shared<CallControl>(service.Deadline(ex->request(), req.stream))),
        encoder(req, id, UnixNow()) {
    req.pipeline.request_id = id;
    timing.emplace(service.metrics_, "http");
    timing->set_model(req.pipeline.model);
  }

  const std::shared_ptr<http::HttpExchange> ex;
  const std::shared_ptr<Reply> reply;
  OpenAiRequest req;
  const std::string id;
  const std::shared_ptr<CallControl> call;
  std::optional<GatewayMetrics::Request> timing;  // Until the result.
  OpenAiEncoder encoder;
  absl::Status worker_error;  // A worker that ended the sequence with an error.
  bool started = false;       // The stream's head went out.
};

void OpenAiService::StartGeneration(std::shared_ptr<http::HttpExchange> ex,
                                    std::shared_ptr<Reply> reply, OpenAiApi api) {
  auto parsed = ParseOpenAiRequest(api, ex->request().body);
  if (!parsed.ok()) {
    reply->Error(*ex, parsed.status());
    Ended();
    return;
  }
  auto g = std::make_shared<Generation>(*this, std::move(ex), std::move(reply),
                                        *std::move(parsed));
  g->ex->OnClientGone([call = g->call] { call->Cancel(); });
  pipeline_.Start(
      g->req.pipeline, *g->call,
      [g](const v1::GenerateStreamResponse& c) { return Stream(*g, c); },
      [this, g](absl::Status st) {
        Finish(*g, std::move(st));
        g->timing.reset();
        Ended();  // Last: the service may go once no generation runs.
      });
}

bool OpenAiService::Stream(Generation& g, const v1::GenerateStreamResponse& c) {
  if (c.finish_reason() == v1::FINISH_REASON_ERROR) {
    g.worker_error = absl::InternalError(c.error_message());
    if (c.text().empty() && c.token_ids_size() == 0) return true;
    // A batch of worker messages that ended in an error still brings its text: the client
    // gets it before the error (Finish).
    v1::GenerateStreamResponse text = c;
    text.set_finish_reason(v1::FINISH_REASON_UNSPECIFIED);
    text.clear_error_message();
    text.clear_usage();
    return Stream(g, text);
  }
  if (!g.req.stream) {
    g.encoder.Add(c);
    return !g.call->cancelled();
  }
  if (!g.started) {
    g.started = true;
    // The head, the opening event and the first chunk leave in one write.
    // (StreamStart numbers its events first: it must run before StreamChunk.)
    std::string events = g.encoder.StreamStart();
    events += g.encoder.StreamChunk(c);
    g.ex->StartStream(200, "text/event-stream", kSseHeaders, events);
  } else {
    g.ex->Write(g.encoder.StreamChunk(c));
  }
  if (!c.text().empty()) g.timing->FirstTokenSent();
  return !g.call->cancelled();
}

void OpenAiService::Finish(Generation& g, absl::Status st) {
  if (st.ok() && !g.worker_error.ok()) st = g.worker_error;
  http::HttpExchange& ex = *g.ex;
  if (!g.started) {
    if (!st.ok()) {
      g.reply->Error(ex, st);
      return;
    }
    if (g.req.stream) {  // Nothing came (cannot normally happen): still a well-formed stream.
      ex.StartStream(200, "text/event-stream", kSseHeaders, g.encoder.StreamStart());
    } else {
      g.timing->FirstTokenSent();
      g.reply->Json(ex, 200, g.encoder.Body());
      return;
    }
  }
  ex.Write(st.ok() ? g.encoder.StreamEnd() : g.encoder.StreamError(st));
  g.reply->Complete(200);
  ex.End();
}

void OpenAiService::Ended() {
  std::lock_guard<std::mutex> lock(mu_);
  if (--running_ == 0) idle_.notify_all();
}

}  // namespace sllm::gateway
