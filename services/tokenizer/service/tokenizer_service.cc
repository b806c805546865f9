#include "services/tokenizer/service/tokenizer_service.h"

#include "absl/container/flat_hash_map.h"
#include "services/common/grpc_status.h"
#include "services/tokenizer/service/decode_streams.h"

namespace sllm::tokenizer {
namespace {

// Finishes a unary call: copies the result on success, records metrics, returns the reactor.
template <typename Response>
grpc::ServerUnaryReactor* FinishUnary(grpc::CallbackServerContext* context,
                                      RpcMetrics::Scope scope, absl::StatusOr<Response> result,
                                      Response* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (result.ok()) *response = std::move(*result);
  reactor->Finish(scope.Finish(ToGrpcStatus(result.status())));
  return reactor;
}

// One DecodeStream: read a request, answer it, read the next; ends on half-close or error.
class DecodeStreamReactor
    : public grpc::ServerBidiReactor<v1::DecodeStreamRequest, v1::DecodeStreamResponse> {
 public:
  DecodeStreamReactor(TokenizerServiceImpl& service, const TokenizerCore& core)
      : service_(service), session_(core), scope_(service.rpc_metrics().Start("DecodeStream")) {
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {  // Client half-closed (or the call broke): the stream is complete.
      Finish(scope_.Finish(grpc::Status::OK));
      return;
    }
    auto response = session_.Handle(request_);
    if (!response.ok()) {
      Finish(scope_.Finish(ToGrpcStatus(response.status())));
      return;
    }
    service_.CountTraffic(session_.model(), "DecodeStream", 0, request_.ids_size());
    response_ = std::move(*response);
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(scope_.Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed")));
      return;
    }
    StartRead(&request_);
  }
  void OnDone() override { delete this; }
  void OnCancel() override {}

 private:
  TokenizerServiceImpl& service_;
  DecodeStreamSession session_;
  RpcMetrics::Scope scope_;
  v1::DecodeStreamRequest request_;
  v1::DecodeStreamResponse response_;
};

// One DecodeStreams call: read a message, answer it, read the next; ends on half-close or
// error. The sequences it leaves open end with it. While the server drains, answers say so.
class DecodeStreamsReactor
    : public grpc::ServerBidiReactor<v1::DecodeStreamsRequest, v1::DecodeStreamsResponse> {
 public:
  DecodeStreamsReactor(TokenizerServiceImpl& service, const TokenizerCore& core)
      : service_(service), session_(core), scope_(service.rpc_metrics().Start("DecodeStreams")) {
    StartRead(&request_);
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      Finish(scope_.Finish(grpc::Status::OK));
      return;
    }
    decoded_.clear();
    response_ = session_.Handle(request_, [this](const std::string& model, size_t ids) {
      decoded_[model] += ids;
    });
    for (const auto& [model, ids] : decoded_) {
      service_.CountTraffic(model, "DecodeStreams", 0, ids);
    }
    response_.set_draining(service_.draining());
    StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      Finish(scope_.Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed")));
      return;
    }
    StartRead(&request_);
  }
  void OnDone() override { delete this; }
  void OnCancel() override {}

 private:
  TokenizerServiceImpl& service_;
  DecodeStreamsSession session_;
  RpcMetrics::Scope scope_;
  absl::flat_hash_map<std::string, size_t> decoded_;  // Ids per model in this message.
  v1::DecodeStreamsRequest request_;
  v1::DecodeStreamsResponse response_;
};

}  // namespace

TokenizerServiceImpl::TokenizerServiceImpl(const TokenizerCore& core,
                                           prometheus::Registry& registry)
    : core_(core),
      rpc_metrics_(registry, "tokenizer"),
      bytes_(prometheus::BuildCounter()
                 .Name("sllm_tokenizer_input_bytes_total")
                 .Help("UTF-8 bytes of text received for tokenization")
                 .Register(registry)),
      tokens_(prometheus::BuildCounter()
                  .Name("sllm_tokenizer_tokens_total")
                  .Help("Token ids produced (Encode) or consumed (Decode, DecodeStream)")
                  .Register(registry)) {}

void TokenizerServiceImpl::CountTraffic(const std::string& model, const std::string& rpc,
                                        size_t bytes, size_t tokens) {
  if (model.empty()) return;
  if (bytes > 0) bytes_.Add({{"model", model}, {"rpc", rpc}}).Increment(bytes);
  tokens_.Add({{"model", model}, {"rpc", rpc}}).Increment(tokens);
}

grpc::ServerUnaryReactor* TokenizerServiceImpl::Encode(grpc::CallbackServerContext* context,
                                                       const v1::EncodeRequest* request,
                                                       v1::EncodeResponse* response) {
  auto scope = rpc_metrics_.Start("Encode");
  auto result = core_.Encode(*request);
  if (result.ok()) {
    CountTraffic(request->model(), "Encode",
                 request->has_text() ? request->text().size() : result->prompt().size(),
                 result->ids_size());
  }
  return FinishUnary(context, std::move(scope), std::move(result), response);
}

grpc::ServerUnaryReactor* TokenizerServiceImpl::Decode(grpc::CallbackServerContext* context,
                                                       const v1::DecodeRequest* request,
                                                       v1::DecodeResponse* response) {
  auto scope = rpc_metrics_.Start("Decode");
  auto result = core_.Decode(*request);
  if (result.ok()) CountTraffic(request->model(), "Decode", 0, request->ids_size());
  return FinishUnary(context, std::move(scope), std::move(result), response);
}

grpc::ServerBidiReactor<v1::DecodeStreamRequest, v1::DecodeStreamResponse>*
TokenizerServiceImpl::DecodeStream(grpc::CallbackServerContext* context) {
  return new DecodeStreamReactor(*this, core_);
}

grpc::ServerBidiReactor<v1::DecodeStreamsRequest, v1::DecodeStreamsResponse>*
TokenizerServiceImpl::DecodeStreams(grpc::CallbackServerContext* context) {
  return new DecodeStreamsReactor(*this, core_);
}

grpc::ServerUnaryReactor* TokenizerServiceImpl::ApplyChatTemplate(
    grpc::CallbackServerContext* context, const v1::ApplyChatTemplateRequest* request,
    v1::ApplyChatTemplateResponse* response) {
  auto scope = rpc_metrics_.Start("ApplyChatTemplate");
  return FinishUnary(context, std::move(scope), core_.ApplyChatTemplate(*request), response);
}

grpc::ServerUnaryReactor* TokenizerServiceImpl::GetInfo(grpc::CallbackServerContext* context,
                                                        const v1::GetTokenizerInfoRequest* request,
                                                        v1::GetTokenizerInfoResponse* response) {
  auto scope = rpc_metrics_.Start("GetInfo");
  return FinishUnary(context, std::move(scope), core_.GetInfo(*request), response);
}

grpc::ServerUnaryReactor* TokenizerServiceImpl::ListModels(
    grpc::CallbackServerContext* context, const v1::ListTokenizerModelsRequest* request,
    v1::ListTokenizerModelsResponse* response) {
  auto scope = rpc_metrics_.Start("ListModels");
  return FinishUnary(context, std::move(scope),
                     absl::StatusOr<v1::ListTokenizerModelsResponse>(core_.ListModels()),
                     response);
}

}  // namespace sllm::tokenizer
