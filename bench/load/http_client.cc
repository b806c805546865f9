// The gateway's OpenAI front: POST /v1/completions with stream: true and
// stream_options.include_usage, read as server-sent events through libcurl (one easy handle,
// so one kept-alive connection, per load thread).
#include <curl/curl.h>

#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "bench/load/client.h"
#include "bench/load/sse_parser.h"
#include "glog/logging.h"
#include "nlohmann/json.hpp"

namespace sllm::loadgen {
namespace {

using json = nlohmann::json;

// What one request's write callback needs.
struct Exchange {
  CURL* curl = nullptr;
  RequestResult* result = nullptr;
  StreamRecorder* recorder = nullptr;
  long status = 0;       // Read from curl at the first body byte.
  std::string body;      // A non-200 body, for the error message.
  SseParser* parser = nullptr;
  bool done = false;     // [DONE] seen.
  std::string stream_error;
  std::string finish_reason;
};

// A piece of a streamed body event: text deltas, the finish reason, usage or an error object.
void OnEvent(Exchange& ex, const SseEvent& event) {
  if (event.data == "[DONE]") {
    ex.done = true;
    return;
  }
  const json j = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    ex.stream_error = absl::StrCat("not a JSON object in the stream: ", event.data.substr(0, 200));
    return;
  }
  if (j.contains("error")) {
    ex.stream_error = j["error"].dump();
    return;
  }
  if (auto c = j.find("choices"); c != j.end() && c->is_array() && !c->empty()) {
    const json& choice = (*c)[0];
    if (auto t = choice.find("text"); t != choice.end() && t->is_string() && !t->empty()) {
      ex.recorder->Chunk(1);
    }
    if (auto f = choice.find("finish_reason"); f != choice.end() && f->is_string()) {
      ex.finish_reason = f->get<std::string>();
    }
  }
  if (auto u = j.find("usage"); u != j.end() && u->is_object()) {
    RequestResult& r = *ex.result;
    r.usage_output_tokens = u->value("completion_tokens", int64_t{-1});
    r.prompt_tokens = u->value("prompt_tokens", r.prompt_tokens);
    if (auto d = u->find("prompt_tokens_details"); d != u->end() && d->is_object()) {
      r.cached_prompt_tokens = d->value("cached_tokens", int64_t{0});
    }
  }
}

size_t OnBytes(char* data, size_t size, size_t n, void* user) {
  Exchange& ex = *static_cast<Exchange*>(user);
  if (ex.status == 0) curl_easy_getinfo(ex.curl, CURLINFO_RESPONSE_CODE, &ex.status);
  if (ex.status != 200) {
    if (ex.body.size() < 4096) ex.body.append(data, size * n);
  } else {
    ex.parser->Feed(std::string_view(data, size * n));
  }
  return size * n;
}

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

std::string RequestBody(const RequestSpec& spec) {
  const Prompt& prompt = *spec.prompt;
  json body = {{"model", spec.settings->model},
               {"max_tokens", prompt.output_len},
               {"stream", true},
               {"stream_options", {{"include_usage", true}}},
               {"ignore_eos", true},
               {"temperature", spec.settings->temperature},
               {"seed", spec.settings->seed},
               {"user", spec.request_id}};
  if (spec.send_text) {
    body["prompt"] = prompt.text;
  } else {
    body["prompt"] = prompt.ids;
  }
  return body.dump();
}

class HttpSession : public Session {
 public:
  explicit HttpSession(std::string base) : base_(std::move(base)), curl_(curl_easy_init()) {
    CHECK(curl_ != nullptr);
    headers_ = curl_slist_append(headers_, "Content-Type: application/json");
    headers_ = curl_slist_append(headers_, "Accept: text/event-stream");
    // curl would otherwise wait for "100 Continue" before sending bodies over 1 KiB.
    headers_ = curl_slist_append(headers_, "Expect:");
  }
  ~HttpSession() override {
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }

  RequestResult Send(const RequestSpec& spec) override {
    RequestResult result;
    result.requested_output_tokens = spec.prompt->output_len;
    result.prompt_tokens = static_cast<int64_t>(spec.prompt->ids.size());
    const std::string body = RequestBody(spec);
    const std::string url = base_ + "/v1/completions";
    Exchange ex;
    ex.curl = curl_;
    ex.result = &result;
    SseParser parser([&ex](const SseEvent& e) { OnEvent(ex, e); });
    ex.parser = &parser;
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, &OnBytes);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &ex);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(spec.settings->timeout_s * 1000));
    StreamRecorder recorder(&result);
    ex.recorder = &recorder;
    const CURLcode rc = curl_easy_perform(curl_);
    recorder.Finish();
    if (ex.status == 0) curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &ex.status);

    result.output_tokens =
        result.usage_output_tokens >= 0 ? result.usage_output_tokens : result.streamed;
    result.token_count_mismatch =
        result.usage_output_tokens >= 0 && result.streamed > result.usage_output_tokens;
    if (rc != CURLE_OK) {
      result.error = "TRANSPORT";
      result.error_message = absl::StrCat(curl_easy_strerror(rc), " (", url, ")");
    } else if (ex.status != 200) {
      result.error = absl::StrCat("HTTP_", ex.status);
      result.error_message = ex.body.substr(0, 500);
    } else if (!ex.stream_error.empty()) {
      result.error = "STREAM_ERROR";
      result.error_message = ex.stream_error;
    } else if (!ex.done || (ex.finish_reason != "length" && ex.finish_reason != "stop")) {
      result.error = "STREAM_ERROR";
      result.error_message =
          !ex.done ? "the stream ended without data: [DONE]"
                   : absl::StrCat("finish_reason '", ex.finish_reason, "'");
    } else {
      result.ok = true;
    }
    return result;
  }

 private:
  std::string base_;
  CURL* curl_;
  curl_slist* headers_ = nullptr;
};

class HttpClient : public LoadClient {
 public:
  explicit HttpClient(const std::string& address) : base_("http://" + address) {}

  absl::StatusOr<ModelInfo> Probe(const std::string& model) override {
    CURL* curl = curl_easy_init();
    CHECK(curl != nullptr);
    std::string body;
    const std::string url = base_ + "/v1/models";
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 10000L);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
      return absl::UnavailableError(absl::StrCat("GET ", url, ": ", curl_easy_strerror(rc)));
    }
    const json j = json::parse(body, nullptr, false);
    if (status != 200 || j.is_discarded() || !j.contains("data") || !j["data"].is_array()) {
      return absl::UnavailableError(
          absl::StrCat("GET ", url, ": HTTP ", status, ": ", body.substr(0, 300)));
    }
    std::vector<std::string> names;
    for (const json& m : j["data"]) {
      const std::string id = m.value("id", "");
      if (model.empty() || id == model) {
        return ModelInfo{id, 0, m.value("max_model_len", 0u)};
      }
      names.push_back(id);
    }
    return absl::NotFoundError(absl::StrCat(
        "the gateway at ", base_,
        model.empty() ? " serves no model" : absl::StrCat(" does not serve '", model, "'"),
        "; it serves: ", names.empty() ? "nothing" : absl::StrJoin(names, ", ")));
  }

  std::unique_ptr<Session> NewSession() override { return std::make_unique<HttpSession>(base_); }

 private:
  std::string base_;
};

}  // namespace

std::unique_ptr<LoadClient> MakeHttpClient(const std::string& address) {
  // Not thread-safe; the first client is made before any load thread starts.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  return std::make_unique<HttpClient>(address);
}

}  // namespace sllm::loadgen
