#include "gateway/grpc_front/generation_service.h"

#include <memory>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gateway/grpc_front/chunk_queue.h"
#include "gateway/validation/error_mapping.h"
#include "glog/logging.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/method_handler.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/support/sync_stream.h"
#include "proto/named_parse_errors.h"
#include "services/common/grpc_status.h"

namespace sllm::gateway {
namespace {

// Maps through the one error table; an overload also gets a `retry-after` trailer (seconds).
grpc::Status ToGrpc(const absl::Status& st, grpc::ServerContextBase* ctx = nullptr) {
  if (st.ok()) return grpc::Status::OK;
  if (const int retry = RetryAfterSeconds(st); retry > 0 && ctx != nullptr) {
    ctx->AddTrailingMetadata("retry-after", std::to_string(retry));
  }
  return grpc::Status(MapError(st).grpc_code, std::string(st.message()));
}

// gRPC numbers a service's methods in the order of the .proto file.
int MethodIndex(const char* method) {
  const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      v1::Generation::service_full_name());
  CHECK(service != nullptr && service->FindMethodByName(method) != nullptr) << method;
  return service->FindMethodByName(method)->index();
}

}  // namespace

template <class Request>
grpc::Status GenerationService::ParseRequest(const char* method, absl::Time start,
                                             grpc::ByteBuffer* bytes, Request& request) {
  grpc::Status st = bytes != nullptr
                        ? ParseNamingErrors(bytes, &request)
                        : grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no request message");
  if (!st.ok()) {
    metrics_.Record(method, st.error_code(), absl::ToDoubleSeconds(absl::Now() - start));
  }
  return st;
}

template <class Request>
grpc::Status GenerationService::ReadRequest(
    const char* method, grpc::internal::ReaderInterface<grpc::ByteBuffer>& stream,
    Request& request) {
  const absl::Time start = absl::Now();
  grpc::ByteBuffer bytes;
  return ParseRequest(method, start, stream.Read(&bytes) ? &bytes : nullptr, request);
}

template <class Request, class Response>
void GenerationService::ParseWithNamedErrors(
    const char* method,
    grpc::Status (GenerationService::*rpc)(grpc::ServerContext*, const Request*, Response*)) {
  using Streamer = grpc::ServerUnaryStreamer<grpc::ByteBuffer, grpc::ByteBuffer>;
  MarkMethodStreamed(
      MethodIndex(method),
      new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
          [this, method, rpc](grpc::ServerContext* ctx, Streamer* stream) {
            Request request;
            if (grpc::Status st = ReadRequest(method, *stream, request); !st.ok()) return st;
            Response response;
            if (grpc::Status st = (this->*rpc)(ctx, &request, &response); !st.ok()) return st;
            grpc::ByteBuffer out;
            bool own_buffer = false;
            grpc::Status st =
                grpc::SerializationTraits<Response>::Serialize(response, &out, &own_buffer);
            if (st.ok()) stream->Write(out);
            return st;
          }));
}

// One GenerateStream or ChatStream call. Its chunks come from the relay's gRPC threads and are
// written from there, one write in flight at a time, the rest queued; the pipeline's result
// (on a thread of the pipeline's) finishes the call.
class GenerationService::StreamCall final
    : public grpc::ServerWriteReactor<v1::GenerateStreamResponse> {
 public:
  StreamCall(GenerationService& service, grpc::CallbackServerContext* ctx, const char* method)
      : service_(service), ctx_(ctx), method_(method), call_(*ctx) {}

  // Parses and authorizes the request (a `Request`, made a PipelineRequest by `from`) and
  // starts its pipeline; or finishes the call with why it was refused.
  template <class Request>
  void Start(const grpc::ByteBuffer& bytes,
             PipelineRequest (GenerationService::*from)(const Request&)) {
    const absl::Time start = absl::Now();
    grpc::ByteBuffer copy(bytes);  // ParseNamingErrors reads through a mutable buffer.
    Request request;
    if (grpc::Status st = service_.ParseRequest(method_, start, &copy, request); !st.ok()) {
      Close(st);
      return;
    }
    PipelineRequest p = (service_.*from)(request);
    RpcMetrics::Scope scope = service_.metrics_.Start(method_);
    auto lease = service_.Authorize(ctx_);
    if (!lease.ok()) {
      Close(scope.Finish(ToGrpc(lease.status(), ctx_)));
      return;
    }
    lease_ = *std::move(lease);
    task_ = std::make_unique<Task>(std::move(p), std::move(scope), service_.gateway_metrics_);
    service_.pipeline_.Start(
        task_->request, call_,
        [this](const v1::GenerateStreamResponse& c) {
          const bool ok = Push(c);
          if (!c.text().empty()) task_->timing.FirstTokenSent();
          return ok;
        },
        // After chunks went out, a failure was already reported in an ERROR chunk; the status
        // still carries it.
        [this](absl::Status st) {
          const grpc::Status status = task_->scope.Finish(ToGrpc(st, ctx_));
          task_.reset();  // The request's timing ends here.
          Close(status);  // Last: the call may end, and this object go, at once.
        });
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock<std::mutex> lock(mu_);
    if (!ok) {  // The client is gone: the sink says so and the pipeline stops.
      gone_ = true;
      queue_.DropWaiting();
    }
    if (queue_.WriteDone()) {
      StartWrite(&queue_.writing());
      return;
    }
    if (closing_ && !std::exchange(finish_called_, true)) {
      const grpc::Status status = final_;
      lock.unlock();
      Finish(status);
    }
  }

  void OnCancel() override { call_.Cancel(); }

  void OnDone() override { delete this; }

 private:
  // The request, from its start to its result.
  struct Task {
    Task(PipelineRequest r, RpcMetrics::Scope s, GatewayMetrics& metrics)
        : request(std::move(r)), scope(std::move(s)), timing(metrics, "grpc") {
      timing.set_model(request.model);
    }
    PipelineRequest request;
    RpcMetrics::Scope scope;
    GatewayMetrics::Request timing;
  };

  // The sink: writes `chunk` now, or queues it behind the write in flight.
  bool Push(const v1::GenerateStreamResponse& chunk) {
    std::lock_guard<std::mutex> lock(mu_);
    if (gone_) return false;
    if (queue_.Push(chunk)) StartWrite(&queue_.writing());
    return true;
  }

  // Ends the call with `status` once the queued chunks are written. The caller must not use
  // this object afterwards.
  void Close(const grpc::Status& status) {
    std::unique_lock<std::mutex> lock(mu_);
    lease_ = ApiKeyAuth::Lease();  // The key's in-flight slot is free when the client learns.
    closing_ = true;
    final_ = status;
    if (queue_.busy() || std::exchange(finish_called_, true)) return;  // OnWriteDone finishes.
    lock.unlock();
    Finish(status);
  }

  GenerationService& service_;
  grpc::CallbackServerContext* const ctx_;
  const char* const method_;
  CallControl call_;
  ApiKeyAuth::Lease lease_;  // Guarded by mu_ once the pipeline runs.
  std::unique_ptr<Task> task_;  // While the pipeline runs.
  std::mutex mu_;
  ChunkQueue queue_;            // Guarded by mu_.
  bool gone_ = false;           // Guarded by mu_.
  bool closing_ = false;        // Guarded by mu_.
  bool finish_called_ = false;  // Guarded by mu_.
  grpc::Status final_;          // Guarded by mu_.
};

template <class Request>
void GenerationService::ServeStream(const char* method,
                                    PipelineRequest (GenerationService::*from)(const Request&)) {
  MarkMethodRawCallback(
      MethodIndex(method),
      new grpc::internal::CallbackServerStreamingHandler<grpc::ByteBuffer,
                                                         v1::GenerateStreamResponse>(
          [this, method, from](grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* bytes) {
            auto* call = new StreamCall(*this, ctx, method);
            call->Start(*bytes, from);
            return call;
          }));
}

GenerationService::GenerationService(Pipeline& pipeline, prometheus::Registry& registry,
                                     GatewayMetrics& gateway_metrics, ApiKeyAuth* auth)
    : pipeline_(pipeline),
      metrics_(registry, v1::Generation::service_full_name()),
      gateway_metrics_(gateway_metrics),
      auth_(auth) {
  ParseWithNamedErrors("Generate", &GenerationService::Generate);
  ParseWithNamedErrors("Chat", &GenerationService::Chat);
  ParseWithNamedErrors("Tokenize", &GenerationService::Tokenize);
  ParseWithNamedErrors("CountTokens", &GenerationService::CountTokens);
  ServeStream("GenerateStream", &GenerationService::FromGenerate);
  ServeStream("ChatStream", &GenerationService::FromChat);
}

absl::StatusOr<ApiKeyAuth::Lease> GenerationService::Authorize(grpc::ServerContextBase* ctx) {
  if (auth_ == nullptr || !auth_->enabled()) return ApiKeyAuth::Lease();
  const auto& metadata = ctx->client_metadata();
  auto it = metadata.find("authorization");
  const std::string value =
      it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
  return auth_->Admit(value);
}

PipelineRequest GenerationService::FromGenerate(const v1::GenerateRequest& r) {
  PipelineRequest p;
  p.request_id = r.request_id().empty() ? absl::StrCat("req-", next_id_++) : r.request_id();
  p.model = r.model();
  p.params = r.params();
  if (r.has_ids()) {
    p.kind = PipelineRequest::Kind::kIds;
    p.ids.assign(r.ids().ids().begin(), r.ids().ids().end());
  } else {
    p.kind = PipelineRequest::Kind::kText;
    p.text = r.text();
  }
  return p;
}

PipelineRequest GenerationService::FromChat(const v1::ChatRequest& r) {
  PipelineRequest p;
  p.request_id = r.request_id().empty() ? absl::StrCat("req-", next_id_++) : r.request_id();
  p.model = r.model();
  p.params = r.params();
  p.kind = PipelineRequest::Kind::kChat;
  *p.chat.mutable_messages() = r.messages();
  p.chat.set_add_generation_prompt(r.has_add_generation_prompt() ? r.add_generation_prompt()
                                                                  : !r.continue_final_message());
  p.chat.set_continue_final_message(r.continue_final_message());
  if (r.has_tools_json()) p.chat.set_tools_json(r.tools_json());
  *p.chat.mutable_template_kwargs_json() = r.chat_template_kwargs_json();
  return p;
}

grpc::Status GenerationService::RunUnary(grpc::ServerContext* ctx, const PipelineRequest& p,
                                         v1::GenerateResponse* response, RpcMetrics::Scope scope) {
  response->set_request_id(p.request_id);
  response->set_model(p.model);
  GatewayMetrics::Request timing(gateway_metrics_, "grpc");
  timing.set_model(p.model);
  CallControl call(*ctx);
  v1::GenerateStreamResponse all;  // Every chunk, joined.
  const absl::Status st = pipeline_.Run(p, call, [&](const v1::GenerateStreamResponse& c) {
    AppendChunk(c, &all);
    return !ctx->IsCancelled();
  });
  response->set_text(std::move(*all.mutable_text()));
  *response->mutable_token_ids() = std::move(*all.mutable_token_ids());
  if (all.has_logprobs()) *response->mutable_logprobs() = std::move(*all.mutable_logprobs());
  if (all.has_prompt_text()) response->set_prompt_text(all.prompt_text());
  *response->mutable_prompt_ids() = std::move(*all.mutable_prompt_ids());
  if (all.finish_reason() != v1::FINISH_REASON_UNSPECIFIED) {
    response->set_finish_reason(all.finish_reason());
    if (all.has_stop_sequence()) response->set_stop_sequence(all.stop_sequence());
    if (all.has_stop_token_id()) response->set_stop_token_id(all.stop_token_id());
    *response->mutable_usage() = all.usage();
  }
  if (st.ok()) timing.FirstTokenSent();  // Unary: the whole text goes out at once.
  return scope.Finish(ToGrpc(st, ctx));
}

grpc::Status GenerationService::Generate(grpc::ServerContext* ctx, const v1::GenerateRequest* r,
                                         v1::GenerateResponse* response) {
  auto scope = metrics_.Start("Generate");
  auto lease = Authorize(ctx);
  if (!lease.ok()) return scope.Finish(ToGrpc(lease.status(), ctx));
  return RunUnary(ctx, FromGenerate(*r), response, std::move(scope));
}

grpc::Status GenerationService::Chat(grpc::ServerContext* ctx, const v1::ChatRequest* r,
                                     v1::GenerateResponse* response) {
  auto scope = metrics_.Start("Chat");
  auto lease = Authorize(ctx);
  if (!lease.ok()) return scope.Finish(ToGrpc(lease.status(), ctx));
  return RunUnary(ctx, FromChat(*r), response, std::move(scope));
}

grpc::Status GenerationService::ListModels(grpc::ServerContext* ctx,
                                           const v1::ListModelsRequest* request,
                                           v1::ListModelsResponse* response) {
  auto scope = metrics_.Start("ListModels");
  auto lease = Authorize(ctx);
  if (!lease.ok()) return scope.Finish(ToGrpc(lease.status(), ctx));
  for (const ModelInfo& m : pipeline_.shards().Models()) {
    auto* card = response->add_models();
    card->set_id(m.name);
    card->set_max_context_length(m.context_length);
    card->set_vocab_size(m.vocab_size);
    card->set_owned_by("sllm");
  }
  return scope.Finish(grpc::Status::OK);
}

absl::StatusOr<std::pair<v1::EncodeResponse, uint32_t>> GenerationService::EncodeFor(
    grpc::ServerContext* ctx, const std::string& model_name, const std::string* text,
    const v1::ChatInput* chat, std::optional<bool> add_special_tokens, bool return_offsets) {
  const std::vector<ModelInfo> models = pipeline_.shards().Models();
  auto model = FindModel(model_name, models);
  if (!model.ok()) return model.status();
  const uint32_t context = (*model)->context_length;
  v1::EncodeRequest enc;
  enc.set_model(model_name);
  if (chat != nullptr) {
    *enc.mutable_chat() = *chat;
  } else {
    enc.set_text(*text);
  }
  if (add_special_tokens) enc.set_add_special_tokens(*add_special_tokens);
  enc.set_return_offsets(return_offsets);
  CallControl call(*ctx);
  auto encoded = pipeline_.Encode(enc, call);
  if (!encoded.ok()) return encoded.status();
  return std::make_pair(std::move(*encoded), context);
}

grpc::Status GenerationService::Tokenize(grpc::ServerContext* ctx,
                                         const v1::TokenizeRequest* r,
                                         v1::TokenizeResponse* response) {
  auto scope = metrics_.Start("Tokenize");
  auto lease = Authorize(ctx);
  if (!lease.ok()) return scope.Finish(ToGrpc(lease.status(), ctx));
  std::optional<bool> add_special;
  if (r->has_add_special_tokens()) add_special = r->add_special_tokens();
  auto result = EncodeFor(ctx, r->model(), &r->text(), r->has_chat() ? &r->chat() : nullptr,
                          add_special, r->return_offsets());
  if (!result.ok()) return scope.Finish(ToGrpc(result.status()));
  const v1::EncodeResponse& encoded = result->first;
  response->mutable_ids()->CopyFrom(encoded.ids());
  response->mutable_offsets()->CopyFrom(encoded.offsets());
  if (encoded.has_prompt()) response->set_prompt(encoded.prompt());
  response->set_max_context_length(result->second);
  return scope.Finish(grpc::Status::OK);
}

grpc::Status GenerationService::CountTokens(grpc::ServerContext* ctx,
                                            const v1::CountTokensRequest* r,
                                            v1::CountTokensResponse* response) {
  auto scope = metrics_.Start("CountTokens");
  auto lease = Authorize(ctx);
  if (!lease.ok()) return scope.Finish(ToGrpc(lease.status(), ctx));
  auto result = EncodeFor(ctx, r->model(), &r->text(), r->has_chat() ? &r->chat() : nullptr,
                          std::nullopt, false);
  if (!result.ok()) return scope.Finish(ToGrpc(result.status()));
  const uint32_t n = result->first.ids_size();
  const uint32_t max = result->second;
  response->set_count(n);
  response->set_max_context_length(max);
  response->set_remaining(n < max ? max - n : 0);
  return scope.Finish(grpc::Status::OK);
}

}  // namespace sllm::gateway
