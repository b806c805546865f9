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

// A bidi call that answers each message before reading the next; ends OK on half-close, or
// with the status of the first message it cannot answer. Owns itself.
template <typename Request, typename Response>
class AnswerEachMessage : public grpc::ServerBidiReactor<Request, Response> {
 public:
  AnswerEachMessage(TokenizerServiceImpl& service, const char* rpc)
      : service_(service), scope_(service.rpc_metrics().Start(rpc)) {}
  void OnReadDone(bool ok) override {
    if (!ok) {  // Client half-closed (or the call broke): the stream is complete.
      this->Finish(scope_.Finish(grpc::Status::OK));
      return;
    }
    absl::StatusOr<Response> response = Answer(request_);
    if (!response.ok()) {
      this->Finish(scope_.Finish(ToGrpcStatus(response.status())));
      return;
    }
    response_ = *std::move(response);
    this->StartWrite(&response_);
  }
  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(scope_.Finish(grpc::Status(grpc::StatusCode::CANCELLED, "write failed")));
      return;
    }
    this->StartRead(&request_);
  }
  void OnDone() override { delete this; }
  void OnCancel() override {}

 protected:
  // Call last in the derived constructor: reads may complete at once.
  void Begin() { this->StartRead(&request_); }
  virtual absl::StatusOr<Response> Answer(const Request& request) = 0;

  TokenizerServiceImpl& service_;

 private:
  RpcMetrics::Scope scope_;
  Request request_;
  Response response_;
};

// One DecodeStream: each message's ids yield a delta; an error ends the stream.
class DecodeStreamReactor final
    : public AnswerEachMessage<v1::DecodeStreamRequest, v1::DecodeStreamResponse> {
 public:
  DecodeStreamReactor(TokenizerServiceImpl& service, const TokenizerCore& core)
      : AnswerEachMessage(service, "DecodeStream"), session_(core) {
    Begin();
  }

 private:
  absl::StatusOr<v1::DecodeStreamResponse> Answer(
      const v1::DecodeStreamRequest& request) override {
    auto response = session_.Handle(request);
    if (response.ok()) {
      service_.CountTraffic(session_.model(), "DecodeStream", 0, request.ids_size());
    }
    return response;
  }

  DecodeStreamSession session_;
};

// One DecodeStreams call: each message's steps get their results (a step's error is its own).
// The sequences it leaves open end with it. While the server drains, answers say so.
class DecodeStreamsReactor final
    : public AnswerEachMessage<v1::DecodeStreamsRequest, v1::DecodeStreamsResponse> {
 public:
  DecodeStreamsReactor(TokenizerServiceImpl& service, const TokenizerCore& core)
      : AnswerEachMessage(service, "DecodeStreams"), session_(core) {
    Begin();
  }

 private:
  absl::StatusOr<v1::DecodeStreamsResponse> Answer(
      const v1::DecodeStreamsRequest& request) override {
    decoded_.clear();
    v1::DecodeStreamsResponse response =
        session_.Handle(request, [this](const std::string& model, size_t ids) {
          decoded_[model] += ids;
        });
    for (const auto& [model, ids] : decoded_) {
      service_.CountTraffic(model, "DecodeStreams", 0, ids);
    }
    response.set_draining(service_.draining());
    return response;
  }

  DecodeStreamsSession session_;
  absl::flat_hash_map<std::string, size_t> decoded_;  // Ids per model in one message.
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
